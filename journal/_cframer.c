/* The journal's framing loop in C: envelope, CRC32C, BLAKE2b-128 hash chain, frame heads.
 *
 * journal/framer.py holds the reference implementation in Python and the contract; this module
 * writes exactly the same bytes (tests/test_journal_framer.py checks it on arbitrary batches).
 * Input: a msgpack array of encoded events (one msgspec call for a whole batch) and their `ts`.
 * Each record's payload is the msgpack array [seq, ts, recorded_at, v, prev, event], which is
 * what msgspec writes for a `journal.record.Record`, with the event's bytes copied verbatim.
 * The loop runs without the GIL. `Committer` runs it on a thread of its own that never takes the
 * GIL: a backtest's batches are framed, written (rolling segments as the writer does) and
 * fdatasync'd on the second core while the decision core keeps the first.
 *
 * BLAKE2b follows RFC 7693 (unkeyed, 16-byte digest); CRC32C is Castagnoli, slicing by 8.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ BLAKE2b (RFC 7693) */

static const uint64_t B2_IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

static const uint8_t B2_SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

#define DIGEST_SIZE 16

typedef struct {
    uint64_t h[8];
    uint64_t t;      /* bytes hashed so far (journal records are far below 2^64) */
    uint8_t buf[128];
    size_t c;        /* bytes in buf */
} b2_state;

static inline uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint64_t load64(const uint8_t *p) {
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
           ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
}

#define B2_G(a, b, c, d, x, y)                 \
    do {                                       \
        v[a] = v[a] + v[b] + (x);              \
        v[d] = rotr64(v[d] ^ v[a], 32);        \
        v[c] = v[c] + v[d];                    \
        v[b] = rotr64(v[b] ^ v[c], 24);        \
        v[a] = v[a] + v[b] + (y);              \
        v[d] = rotr64(v[d] ^ v[a], 16);        \
        v[c] = v[c] + v[d];                    \
        v[b] = rotr64(v[b] ^ v[c], 63);        \
    } while (0)

/* One round with its message schedule as constants: fully unrolled, the compiler keeps m[] in registers. */
#define B2_ROUND(r)                                                       \
    do {                                                                  \
        B2_G(0, 4, 8, 12, m[B2_SIGMA[r][0]], m[B2_SIGMA[r][1]]);           \
        B2_G(1, 5, 9, 13, m[B2_SIGMA[r][2]], m[B2_SIGMA[r][3]]);           \
        B2_G(2, 6, 10, 14, m[B2_SIGMA[r][4]], m[B2_SIGMA[r][5]]);          \
        B2_G(3, 7, 11, 15, m[B2_SIGMA[r][6]], m[B2_SIGMA[r][7]]);          \
        B2_G(0, 5, 10, 15, m[B2_SIGMA[r][8]], m[B2_SIGMA[r][9]]);          \
        B2_G(1, 6, 11, 12, m[B2_SIGMA[r][10]], m[B2_SIGMA[r][11]]);        \
        B2_G(2, 7, 8, 13, m[B2_SIGMA[r][12]], m[B2_SIGMA[r][13]]);         \
        B2_G(3, 4, 9, 14, m[B2_SIGMA[r][14]], m[B2_SIGMA[r][15]]);         \
    } while (0)

static void b2_compress(b2_state *s, int last) {
    uint64_t v[16], m[16];
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = B2_IV[i];
    }
    v[12] ^= s->t;
    if (last) v[14] = ~v[14];
    for (int i = 0; i < 16; i++) m[i] = load64(s->buf + 8 * i);
    B2_ROUND(0); B2_ROUND(1); B2_ROUND(2); B2_ROUND(3); B2_ROUND(4); B2_ROUND(5);
    B2_ROUND(6); B2_ROUND(7); B2_ROUND(8); B2_ROUND(9); B2_ROUND(10); B2_ROUND(11);
    for (int i = 0; i < 8; i++) s->h[i] ^= v[i] ^ v[i + 8];
}

static void b2_init(b2_state *s) {
    for (int i = 0; i < 8; i++) s->h[i] = B2_IV[i];
    s->h[0] ^= 0x01010000ULL ^ DIGEST_SIZE; /* no key, digest length 16 */
    s->t = 0;
    s->c = 0;
}

static void b2_update(b2_state *s, const uint8_t *in, size_t n) {
    while (n > 0) {
        if (s->c == 128) { /* a full buffer is compressed only once more input follows */
            s->t += 128;
            b2_compress(s, 0);
            s->c = 0;
        }
        size_t take = 128 - s->c;
        if (take > n) take = n;
        memcpy(s->buf + s->c, in, take);
        s->c += take;
        in += take;
        n -= take;
    }
}

static void b2_final(b2_state *s, uint8_t out[DIGEST_SIZE]) {
    s->t += s->c;
    memset(s->buf + s->c, 0, 128 - s->c);
    b2_compress(s, 1);
    for (int i = 0; i < DIGEST_SIZE; i++) out[i] = (uint8_t)(s->h[i / 8] >> (8 * (i % 8)));
}

/* ------------------------------------------------------------------ CRC32C (Castagnoli) */

static uint32_t crc_table[8][256];

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++) crc_table[t][n] = (crc_table[t - 1][n] >> 8) ^ crc_table[0][crc_table[t - 1][n] & 0xff];
}

static uint32_t crc32c(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
        c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
            crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--) c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------------ msgpack */

static inline void put_be(uint8_t *p, uint64_t x, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (uint8_t)x;
        x >>= 8;
    }
}

/* An int as msgspec writes it (the smallest form); returns the bytes written. */
static size_t put_int(uint8_t *p, int64_t x) {
    if (x < 0) {
        if (x < -(1LL << 31)) { p[0] = 0xd3; put_be(p + 1, (uint64_t)x, 8); return 9; }
        if (x < -(1LL << 15)) { p[0] = 0xd2; put_be(p + 1, (uint64_t)x, 4); return 5; }
        if (x < -(1LL << 7)) { p[0] = 0xd1; put_be(p + 1, (uint64_t)x, 2); return 3; }
        if (x < -(1LL << 5)) { p[0] = 0xd0; p[1] = (uint8_t)x; return 2; }
        p[0] = (uint8_t)x;
        return 1;
    }
    if (x < (1LL << 7)) { p[0] = (uint8_t)x; return 1; }
    if (x < (1LL << 8)) { p[0] = 0xcc; p[1] = (uint8_t)x; return 2; }
    if (x < (1LL << 16)) { p[0] = 0xcd; put_be(p + 1, (uint64_t)x, 2); return 3; }
    if (x < (1LL << 32)) { p[0] = 0xce; put_be(p + 1, (uint64_t)x, 4); return 5; }
    p[0] = 0xcf;
    put_be(p + 1, (uint64_t)x, 8);
    return 9;
}

static inline uint64_t get_be(const uint8_t *p, int bytes) {
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++) x = (x << 8) | p[i];
    return x;
}

/* The end of the msgpack value at p (children included), or NULL when it runs past end or is
 * not msgpack. Iterative: `pending` counts the values still to skip. */
static const uint8_t *skip_value(const uint8_t *p, const uint8_t *end) {
    uint64_t pending = 1;
    while (pending > 0) {
        pending--;
        if (p >= end) return NULL;
        uint8_t b = *p;
        uint64_t body = 0; /* bytes after the header */
        size_t head = 1;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        } else if ((b & 0xf0) == 0x80) {
            pending += 2u * (b & 0x0f);
        } else if ((b & 0xf0) == 0x90) {
            pending += (b & 0x0f);
        } else if ((b & 0xe0) == 0xa0) {
            body = b & 0x1f;
        } else {
            size_t need;
            switch (b) {
                case 0xc4: case 0xd9: need = 1; break; /* bin8, str8 */
                case 0xc5: case 0xda: need = 2; break;
                case 0xc6: case 0xdb: need = 4; break;
                case 0xc7: need = 1; break; /* ext8 */
                case 0xc8: need = 2; break;
                case 0xc9: need = 4; break;
                case 0xca: case 0xce: case 0xd2: need = 4; break;
                case 0xcb: case 0xcf: case 0xd3: need = 8; break;
                case 0xcc: case 0xd0: need = 1; break;
                case 0xcd: case 0xd1: need = 2; break;
                case 0xd4: need = 2; break; /* fixext: type + data */
                case 0xd5: need = 3; break;
                case 0xd6: need = 5; break;
                case 0xd7: need = 9; break;
                case 0xd8: need = 17; break;
                case 0xdc: case 0xde: need = 2; break;
                case 0xdd: case 0xdf: need = 4; break;
                default: return NULL; /* 0xc1: never used */
            }
            if ((size_t)(end - p) < 1 + need) return NULL;
            switch (b) {
                case 0xc4: case 0xc5: case 0xc6: case 0xd9: case 0xda: case 0xdb:
                    head = 1 + need;
                    body = get_be(p + 1, (int)need);
                    break;
                case 0xc7: case 0xc8: case 0xc9:
                    head = 2 + need; /* length, then the type byte */
                    body = get_be(p + 1, (int)need);
                    break;
                case 0xdc: case 0xdd:
                    head = 1 + need;
                    pending += get_be(p + 1, (int)need);
                    break;
                case 0xde: case 0xdf:
                    head = 1 + need;
                    pending += 2 * get_be(p + 1, (int)need);
                    break;
                default:
                    head = 1 + need; /* fixed-size scalars and fixext */
            }
        }
        if ((uint64_t)(end - p) < head || (uint64_t)(end - p) - head < body) return NULL;
        p += head + body;
    }
    return p;
}

/* ------------------------------------------------------------------ framing */

typedef struct {
    Py_ssize_t end;      /* offset in the frames just past the frame that filled its segment */
    int64_t next_seq;
    uint8_t digest[DIGEST_SIZE];
} roll_t;

#define FRAME_HEAD 12
#define ENVELOPE_INTS (1 + 4 * 9 + 2) /* fixarray, four ints, bin8 header; then prev */

static void put_le32(uint8_t *p, uint32_t x) {
    p[0] = (uint8_t)x;
    p[1] = (uint8_t)(x >> 8);
    p[2] = (uint8_t)(x >> 16);
    p[3] = (uint8_t)(x >> 24);
}

typedef struct {
    const uint8_t *blob, *blob_end;
    const int64_t *ts;
    Py_ssize_t count;
    int64_t seq, now, v;
    uint8_t prev[255];
    size_t prev_len;
    int64_t size, limit, header_size, max_record;
    uint8_t *out;
    Py_ssize_t out_len;
    roll_t *rolls;
    Py_ssize_t n_rolls;
    Py_ssize_t bad_index;  /* on failure: which event */
    const char *error;
} job_t;

static int run_job(job_t *j) {
    const uint8_t *p = j->blob;
    uint8_t *o = j->out;
    int64_t size = j->size;
    for (Py_ssize_t i = 0; i < j->count; i++) {
        const uint8_t *next = skip_value(p, j->blob_end);
        if (next == NULL) {
            j->bad_index = i;
            j->error = "the encoded events end early or are not msgpack";
            return -1;
        }
        uint8_t *payload = o + FRAME_HEAD;
        uint8_t *q = payload;
        *q++ = 0x96;
        q += put_int(q, j->seq);
        q += put_int(q, j->ts[i]);
        q += put_int(q, j->now);
        q += put_int(q, j->v);
        *q++ = 0xc4;
        *q++ = (uint8_t)j->prev_len;
        memcpy(q, j->prev, j->prev_len);
        q += j->prev_len;
        memcpy(q, p, (size_t)(next - p));
        q += next - p;
        int64_t n = q - payload;
        if (n > j->max_record) {
            j->bad_index = i;
            j->error = "an event encodes to more than the largest record";
            return -1;
        }
        put_le32(o, (uint32_t)n);
        put_le32(o + 4, (uint32_t)n ^ 0xFFFFFFFFu);
        put_le32(o + 8, crc32c(payload, (size_t)n));
        b2_state s;
        b2_init(&s);
        b2_update(&s, j->prev, j->prev_len);
        b2_update(&s, payload, (size_t)n);
        b2_final(&s, j->prev);
        j->prev_len = DIGEST_SIZE;
        j->seq++;
        o = q;
        p = next;
        size += FRAME_HEAD + n;
        if (size >= j->limit) {
            roll_t *r = &j->rolls[j->n_rolls++];
            r->end = o - j->out;
            r->next_seq = j->seq;
            memcpy(r->digest, j->prev, DIGEST_SIZE);
            size = j->header_size;
        }
    }
    if (p != j->blob_end) {
        j->bad_index = j->count;
        j->error = "the encoded events hold more values than there are events";
        return -1;
    }
    j->out_len = o - j->out;
    return 0;
}

/* The event times of a batch as int64 (out has room for all); -1 with an exception otherwise. */
static int read_times(PyObject *ts_list, int64_t *out) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ts_list); i++) {
        PyObject *t = PyList_GET_ITEM(ts_list, i);
        if (!PyLong_Check(t)) {
            PyErr_Format(PyExc_TypeError, "event %zd: ts is not an int", i);
            return -1;
        }
        out[i] = PyLong_AsLongLong(t);
        if (out[i] == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

/* Step past the header of the msgpack array of `count` encoded events; -1 with an exception otherwise. */
static int skip_array_header(const uint8_t **pp, const uint8_t *end, Py_ssize_t count) {
    const uint8_t *p = *pp;
    uint64_t n_items;
    if (p < end && (*p & 0xf0) == 0x90) {
        n_items = *p & 0x0f;
        p += 1;
    } else if (p + 3 <= end && *p == 0xdc) {
        n_items = get_be(p + 1, 2);
        p += 3;
    } else if (p + 5 <= end && *p == 0xdd) {
        n_items = get_be(p + 1, 4);
        p += 5;
    } else {
        PyErr_SetString(PyExc_ValueError, "the encoded events are not a msgpack array");
        return -1;
    }
    if (n_items != (uint64_t)count) {
        PyErr_Format(PyExc_ValueError, "%llu encoded events for %zd timestamps", (unsigned long long)n_items, count);
        return -1;
    }
    *pp = p;
    return 0;
}

/* frame(blob, ts, seq, prev, now, v, size, limit, header_size, max_record)
 *   -> (frames: bytes, rolls: list[(end, next_seq, digest)], digest: bytes)
 * `blob` is a msgpack array of len(ts) encoded events. Raises ValueError (naming the event's
 * index) for a malformed blob or an oversized record, OverflowError for an int beyond int64. */
static PyObject *frame(PyObject *self, PyObject *args) {
    Py_buffer blob, prev;
    PyObject *ts_list;
    long long seq, now, v, size, limit, header_size, max_record;
    if (!PyArg_ParseTuple(args, "y*O!Ly*LLLLLL", &blob, &PyList_Type, &ts_list, &seq, &prev, &now, &v, &size,
                          &limit, &header_size, &max_record))
        return NULL;
    PyObject *result = NULL, *frames = NULL, *rolls_list = NULL;
    job_t j;
    memset(&j, 0, sizeof j);
    Py_ssize_t count = PyList_GET_SIZE(ts_list);
    j.ts = NULL;
    if (prev.len > 255) {
        PyErr_SetString(PyExc_ValueError, "prev digest longer than 255 bytes");
        goto done;
    }
    if (count > 0 && seq > INT64_MAX - count) { /* the seq after the last record must be an int64 too */
        PyErr_SetString(PyExc_OverflowError, "seqs beyond int64");
        goto done;
    }
    if (size < 0 || size > (1LL << 62) || limit < 1 || limit > (1LL << 62) || header_size < 0 || max_record < 1 ||
        max_record > (1LL << 32)) { /* so the running segment size cannot overflow */
        PyErr_SetString(PyExc_ValueError, "segment sizes out of range");
        goto done;
    }
    const uint8_t *p = blob.buf, *end = p + blob.len;
    if (skip_array_header(&p, end, count) != 0) goto done;
    int64_t *ts = PyMem_Malloc(sizeof(int64_t) * (size_t)(count ? count : 1));
    roll_t *rolls = PyMem_Malloc(sizeof(roll_t) * (size_t)(count ? count : 1));
    j.ts = ts;
    j.rolls = rolls;
    if (ts == NULL || rolls == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (read_times(ts_list, ts) != 0) goto done;
    Py_ssize_t bound = (Py_ssize_t)(end - p);
    Py_ssize_t per_record = FRAME_HEAD + ENVELOPE_INTS + (prev.len > DIGEST_SIZE ? prev.len : DIGEST_SIZE);
    if (count > (PY_SSIZE_T_MAX - bound) / per_record) {
        PyErr_NoMemory();
        goto done;
    }
    bound += count * per_record;
    frames = PyBytes_FromStringAndSize(NULL, bound);
    if (frames == NULL) goto done;
    j.blob = p;
    j.blob_end = end;
    j.count = count;
    j.seq = seq;
    j.now = now;
    j.v = v;
    memcpy(j.prev, prev.buf, (size_t)prev.len);
    j.prev_len = (size_t)prev.len;
    j.size = size;
    j.limit = limit;
    j.header_size = header_size;
    j.max_record = max_record;
    j.out = (uint8_t *)PyBytes_AS_STRING(frames);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = run_job(&j);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        PyErr_Format(PyExc_ValueError, "event %zd of the batch: %s", j.bad_index, j.error);
        goto done;
    }
    if (_PyBytes_Resize(&frames, j.out_len) != 0) goto done; /* frees frames on failure */
    rolls_list = PyList_New(j.n_rolls);
    if (rolls_list == NULL) goto done;
    for (Py_ssize_t i = 0; i < j.n_rolls; i++) {
        PyObject *item = Py_BuildValue("(nLy#)", j.rolls[i].end, (long long)j.rolls[i].next_seq,
                                       (const char *)j.rolls[i].digest, (Py_ssize_t)DIGEST_SIZE);
        if (item == NULL) goto done;
        PyList_SET_ITEM(rolls_list, i, item);
    }
    result = Py_BuildValue("(OOy#)", frames, rolls_list, (const char *)j.prev, (Py_ssize_t)j.prev_len);
done:
    Py_XDECREF(frames);
    Py_XDECREF(rolls_list);
    PyMem_Free((void *)j.ts);
    PyMem_Free(j.rolls);
    PyBuffer_Release(&blob);
    PyBuffer_Release(&prev);
    return result;
}

/* event_times(events, types, session) -> (ts, has_session) | None
 * The checks journal/batch.py makes of a batch, in C for the common case: every event's type is in
 * `types` and its ts an int within int64. None sends the caller to its Python loop, which raises the
 * error naming the event (or admits a subclass of Event that is not in `types`). */
static PyObject *event_times(PyObject *self, PyObject *args) {
    static PyObject *ts_name = NULL;
    PyObject *events, *types, *session;
    if (!PyArg_ParseTuple(args, "O!O!O", &PyList_Type, &events, &PyFrozenSet_Type, &types, &session)) return NULL;
    if (ts_name == NULL && (ts_name = PyUnicode_InternFromString("ts")) == NULL) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(events);
    PyObject *out = PyList_New(n);
    if (out == NULL) return NULL;
    int has_session = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *event = PyList_GET_ITEM(events, i), *type = (PyObject *)Py_TYPE(event);
        int known = PySet_Contains(types, type);
        if (known <= 0) goto slow_path; /* an error here is the slow path's to raise */
        has_session |= type == session;
        PyObject *ts = PyObject_GetAttr(event, ts_name);
        if (ts == NULL) goto slow_path;
        int overflow = 0;
        if (!PyLong_CheckExact(ts) || (PyLong_AsLongLongAndOverflow(ts, &overflow), overflow != 0)) {
            Py_DECREF(ts);
            goto slow_path;
        }
        PyList_SET_ITEM(out, i, ts); /* steals the reference */
    }
    return Py_BuildValue("(NO)", out, has_session ? Py_True : Py_False);
slow_path:
    PyErr_Clear();
    Py_DECREF(out);
    Py_RETURN_NONE;
}

static PyObject *blake2b_128(PyObject *self, PyObject *args) {
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) return NULL;
    b2_state s;
    uint8_t out[DIGEST_SIZE];
    b2_init(&s);
    b2_update(&s, data.buf, (size_t)data.len);
    b2_final(&s, out);
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)out, DIGEST_SIZE);
}

static PyObject *crc32c_py(PyObject *self, PyObject *args) {
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) return NULL;
    uint32_t c = crc32c(data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLong(c);
}

/* ------------------------------------------------------------------ the committer thread */

typedef struct job {
    uint8_t *blob; /* the array's items (header already parsed), copied: the thread never touches Python objects */
    size_t blob_len;
    int64_t *ts;
    Py_ssize_t count;
    int64_t seq, now;
    struct job *next;
} job_item;

typedef struct {
    PyObject_HEAD
    int ready;     /* __init__ succeeded: the mutex, conditions and thread exist */
    pid_t pid;     /* the process that started the thread (a forked child has no thread) */
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* a job arrived, or stop */
    pthread_cond_t idle;  /* a job finished */
    job_item *head, *tail;
    int queued, busy, stop, running, attached;
    pthread_t thread;
    /* the tip, owned by the thread while attached */
    int fd;
    int64_t seg_size;
    uint8_t prev[DIGEST_SIZE];
    int64_t unsynced;
    uint8_t *wbuf; /* framed records not yet written: small batches are written together */
    size_t wlen, wcap;
    /* settings */
    char *directory;
    int64_t limit, header_size, max_record, v, sync_bytes, max_queue;
    uint8_t magic[8];
    int format_version;
    /* the first failure: errno (0 for a framing error) and what was being done; formatted by the caller */
    int failed, err_no;
    char what[4200];
} Committer;

/* Record the first failure (from the thread, which holds no lock while it works). */
static void fail(Committer *c, int err_no, const char *what) {
    pthread_mutex_lock(&c->mu);
    if (!c->failed) {
        c->failed = 1;
        c->err_no = err_no;
        snprintf(c->what, sizeof c->what, "%s", what);
    }
    pthread_mutex_unlock(&c->mu);
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) { /* never for a regular file; an error rather than a spin */
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sync_fd(int fd) {
#ifdef __APPLE__
    return fsync(fd);
#else
    return fdatasync(fd);
#endif
}

/* A new segment as journal.writer._create_segment makes it: header to a temp file, fsync, rename,
 * fsync the directory, then open it for appending. Returns the new fd or -1 (errno set, `what` says
 * which step failed). */
static int create_segment(Committer *c, int64_t first_seq, const uint8_t prev[DIGEST_SIZE], char *what, size_t cap) {
    char final[4096], tmp[4100];
    uint8_t h[40];
    snprintf(final, sizeof final, "%s/%020lld.seg", c->directory, (long long)first_seq);
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    memcpy(h, c->magic, 8);
    h[8] = (uint8_t)c->format_version;
    h[9] = (uint8_t)(c->format_version >> 8);
    h[10] = h[11] = 0;
    for (int i = 0; i < 8; i++) h[12 + i] = (uint8_t)((uint64_t)first_seq >> (8 * i));
    memcpy(h + 20, prev, DIGEST_SIZE);
    put_le32(h + 36, crc32c(h, 36));
    snprintf(what, cap, "creating segment %s", final);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    if (write_all(fd, h, sizeof h) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, final) != 0) return -1;
    int dir = open(c->directory, O_RDONLY | O_CLOEXEC);
    if (dir < 0) return -1;
    if (fsync(dir) != 0) {
        int e = errno;
        close(dir);
        errno = e;
        return -1;
    }
    close(dir);
    return open(final, O_WRONLY | O_APPEND | O_CLOEXEC);
}

#define WRITE_BYTES (256 * 1024) /* buffered framed bytes are written once they reach this, or the queue empties */

/* Write the buffered records, then fdatasync once sync_bytes are unsynced. 0, or -1 with errno and `what`. */
static int write_out(Committer *c, const uint8_t *p, size_t n, char *what, size_t cap) {
    snprintf(what, cap, "writing a segment");
    if (write_all(c->fd, p, n) != 0) return -1;
    c->unsynced += (int64_t)n;
    if (c->unsynced >= c->sync_bytes) { /* the closing fsync then waits only for the last part */
        snprintf(what, cap, "syncing a segment");
        if (sync_fd(c->fd) != 0) return -1;
        c->unsynced = 0;
    }
    return 0;
}

static int flush_wbuf(Committer *c, char *what, size_t cap) {
    if (c->wlen == 0) return 0;
    size_t n = c->wlen;
    c->wlen = 0; /* written or lost: never written twice */
    return write_out(c, c->wbuf, n, what, cap);
}

static int buffer_frames(Committer *c, const uint8_t *p, size_t n) {
    if (n == 0) return 0;
    if (c->wlen + n > c->wcap) {
        size_t cap = c->wcap ? c->wcap : WRITE_BYTES;
        while (cap < c->wlen + n) cap *= 2;
        uint8_t *grown = realloc(c->wbuf, cap);
        if (grown == NULL) return -1;
        c->wbuf = grown;
        c->wcap = cap;
    }
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
    return 0;
}

/* A batch that cannot be framed ends the committer; the batches before it are written first, as they would
 * have been without the buffer. */
static void fail_framing(Committer *c, int err_no, const char *what) {
    char ignored[64];
    flush_wbuf(c, ignored, sizeof ignored); /* best effort: the failure reported is the framing one */
    fail(c, err_no, what);
}

/* Frame one job and buffer it (written by flush_wbuf; a large one directly), rolling where a segment fills.
 * Runs on the committer thread. */
static void commit_job(Committer *c, job_item *jb) {
    job_t j;
    memset(&j, 0, sizeof j);
    char what[4200];
    size_t per_record = FRAME_HEAD + ENVELOPE_INTS + DIGEST_SIZE;
    if ((size_t)jb->count > (SIZE_MAX - jb->blob_len) / per_record) {
        fail_framing(c, ENOMEM, "framing a batch");
        return;
    }
    size_t bound = jb->blob_len + (size_t)jb->count * per_record;
    j.out = malloc(bound ? bound : 1);
    j.rolls = malloc(sizeof(roll_t) * (size_t)(jb->count ? jb->count : 1));
    if (j.out == NULL || j.rolls == NULL) {
        fail_framing(c, ENOMEM, "framing a batch");
        goto done;
    }
    j.blob = jb->blob;
    j.blob_end = jb->blob + jb->blob_len;
    j.ts = jb->ts;
    j.count = jb->count;
    j.seq = jb->seq;
    j.now = jb->now;
    j.v = c->v;
    memcpy(j.prev, c->prev, DIGEST_SIZE);
    j.prev_len = DIGEST_SIZE;
    j.size = c->seg_size;
    j.limit = c->limit;
    j.header_size = c->header_size;
    j.max_record = c->max_record;
    if (run_job(&j) != 0) {
        snprintf(what, sizeof what, "event %zd of the batch from seq %lld: %s", j.bad_index, (long long)jb->seq,
                 j.error);
        fail_framing(c, 0, what);
        goto done;
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t r = 0; r < j.n_rolls; r++) { /* each full segment is complete and synced before the next exists */
        if (flush_wbuf(c, what, sizeof what) != 0) goto os_error;
        snprintf(what, sizeof what, "writing a segment");
        if (write_all(c->fd, j.out + start, (size_t)(j.rolls[r].end - start)) != 0) goto os_error;
        snprintf(what, sizeof what, "syncing a full segment");
        if (sync_fd(c->fd) != 0) goto os_error;
        int fd = create_segment(c, j.rolls[r].next_seq, j.rolls[r].digest, what, sizeof what);
        if (fd < 0) goto os_error;
        close(c->fd);
        c->fd = fd;
        c->seg_size = c->header_size;
        c->unsynced = 0;
        start = j.rolls[r].end;
    }
    size_t rest = (size_t)(j.out_len - start);
    c->seg_size += (int64_t)rest;
    memcpy(c->prev, j.prev, DIGEST_SIZE);
    if (rest >= WRITE_BYTES) { /* a large batch goes out as it is: the buffer stays below 2 * WRITE_BYTES */
        if (flush_wbuf(c, what, sizeof what) != 0 || write_out(c, j.out + start, rest, what, sizeof what) != 0)
            goto os_error;
    } else {
        if (buffer_frames(c, j.out + start, rest) != 0) {
            fail_framing(c, ENOMEM, "buffering framed records");
            goto done;
        }
        if (c->wlen >= WRITE_BYTES && flush_wbuf(c, what, sizeof what) != 0) goto os_error;
    }
    goto done;
os_error:
    fail(c, errno, what);
done:
    free(j.out);
    free(j.rolls);
}

static void *committer_main(void *arg) {
    Committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->head == NULL && !c->stop) pthread_cond_wait(&c->wake, &c->mu);
        if (c->head == NULL) break; /* stop, and nothing left */
        job_item *jb = c->head;
        c->head = jb->next;
        if (c->head == NULL) c->tail = NULL;
        c->queued--;
        c->busy = 1;
        int failed = c->failed;
        pthread_mutex_unlock(&c->mu);
        if (!failed) commit_job(c, jb); /* after a failure the chain cannot go on: later batches are dropped */
        free(jb->blob);
        free(jb->ts);
        free(jb);
        pthread_mutex_lock(&c->mu);
        if (c->head == NULL && !c->failed && c->wlen > 0) { /* nothing queued: write what is buffered now */
            pthread_mutex_unlock(&c->mu);
            char what[64];
            if (flush_wbuf(c, what, sizeof what) != 0) fail(c, errno, what);
            pthread_mutex_lock(&c->mu);
        }
        c->busy = 0;
        pthread_cond_broadcast(&c->idle);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Raise the recorded failure: OSError(errno, "<strerror> (<what>)"), or ValueError for a framing error. */
static PyObject *raise_failure(Committer *c) {
    if (c->err_no) {
        PyObject *exc = PyObject_CallFunction(PyExc_OSError, "is", c->err_no, "");
        PyObject *message = PyUnicode_FromFormat("%s (%s)", strerror(c->err_no), c->what);
        if (exc != NULL && message != NULL && PyObject_SetAttrString(exc, "strerror", message) == 0)
            PyErr_SetObject(PyExc_OSError, exc);
        Py_XDECREF(exc);
        Py_XDECREF(message);
    } else {
        PyErr_SetString(PyExc_ValueError, c->what);
    }
    return NULL;
}

/* Every method: refuse an object whose __init__ did not run, and a forked child (it has no thread). */
static int usable(Committer *c) {
    if (!c->ready) {
        PyErr_SetString(PyExc_RuntimeError, "journal committer was never started");
        return 0;
    }
    if (c->pid != getpid()) {
        PyErr_SetString(PyExc_RuntimeError, "journal committer belongs to the parent process (fork)");
        return 0;
    }
    return 1;
}

static int Committer_init(Committer *c, PyObject *args, PyObject *kw) {
    const char *directory, *magic;
    Py_ssize_t magic_len;
    long long limit, header_size, max_record, v, sync_bytes, max_queue;
    int format_version;
    if (kw != NULL && PyDict_GET_SIZE(kw) > 0) {
        PyErr_SetString(PyExc_TypeError, "Committer takes positional arguments only");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "yy#iLLLLLL", &directory, &magic, &magic_len, &format_version, &limit, &header_size,
                          &max_record, &v, &sync_bytes, &max_queue))
        return -1;
    if (c->ready) {
        PyErr_SetString(PyExc_RuntimeError, "journal committer already started");
        return -1;
    }
    if (magic_len != 8 || strlen(directory) > 3000 || max_queue < 1 || limit < 1 || limit > (1LL << 62) ||
        header_size < 0 || max_record < 1 || max_record > (1LL << 32) || sync_bytes < 0) {
        PyErr_SetString(PyExc_ValueError, "bad journal committer settings");
        return -1;
    }
    c->directory = strdup(directory);
    if (c->directory == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(c->magic, magic, 8);
    c->format_version = format_version;
    c->limit = limit;
    c->header_size = header_size;
    c->max_record = max_record;
    c->v = v;
    c->sync_bytes = sync_bytes;
    c->max_queue = max_queue;
    c->fd = -1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the thread inherits it: signals go to Python's threads */
    int rc = pthread_create(&c->thread, NULL, committer_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->idle);
        free(c->directory);
        c->directory = NULL;
        PyErr_SetString(PyExc_RuntimeError, "cannot start the journal committer thread");
        return -1;
    }
    c->pid = getpid();
    c->running = 1;
    c->ready = 1;
    return 0;
}

/* attach(fd, seg_size, prev): the thread owns the tip from now until drain(). */
static PyObject *Committer_attach(Committer *c, PyObject *args) {
    int fd;
    long long seg_size;
    Py_buffer prev;
    if (!usable(c) || !PyArg_ParseTuple(args, "iLy*", &fd, &seg_size, &prev)) return NULL;
    if (prev.len != DIGEST_SIZE || c->attached || !c->running || seg_size < 0 || seg_size > (1LL << 62)) {
        PyBuffer_Release(&prev);
        PyErr_SetString(PyExc_ValueError, "journal committer: attach needs a 16-byte digest and a running, "
                                          "detached committer");
        return NULL;
    }
    pthread_mutex_lock(&c->mu);
    c->fd = fd;
    c->seg_size = seg_size;
    memcpy(c->prev, prev.buf, DIGEST_SIZE);
    c->unsynced = 0;
    c->attached = 1;
    pthread_mutex_unlock(&c->mu);
    PyBuffer_Release(&prev);
    Py_RETURN_NONE;
}

static void free_job(job_item *jb) {
    if (jb) {
        free(jb->blob);
        free(jb->ts);
        free(jb);
    }
}

/* submit(blob, ts, seq, now): queue a batch (waits while the queue is full). Raises an earlier failure. */
static PyObject *Committer_submit(Committer *c, PyObject *args) {
    Py_buffer blob;
    PyObject *ts_list;
    long long seq, now;
    if (!usable(c) || !PyArg_ParseTuple(args, "y*O!LL", &blob, &PyList_Type, &ts_list, &seq, &now)) return NULL;
    job_item *jb = NULL;
    const uint8_t *p = blob.buf, *end = p + blob.len;
    Py_ssize_t count = PyList_GET_SIZE(ts_list);
    if (!c->attached) {
        PyErr_SetString(PyExc_ValueError, "journal committer: submit before attach");
        goto error;
    }
    if (count > 0 && seq > INT64_MAX - count) {
        PyErr_SetString(PyExc_OverflowError, "journal committer: seqs beyond int64");
        goto error;
    }
    if (skip_array_header(&p, end, count) != 0) goto error;
    jb = calloc(1, sizeof *jb);
    if (jb == NULL) goto nomem;
    jb->blob_len = (size_t)(end - p);
    jb->blob = malloc(jb->blob_len ? jb->blob_len : 1);
    jb->ts = malloc(sizeof(int64_t) * (size_t)(count ? count : 1));
    if (jb->blob == NULL || jb->ts == NULL) goto nomem;
    memcpy(jb->blob, p, jb->blob_len);
    if (read_times(ts_list, jb->ts) != 0) goto error;
    jb->count = count;
    jb->seq = seq;
    jb->now = now;
    PyBuffer_Release(&blob);
    int failed, stopped;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&c->mu);
    while (c->queued >= c->max_queue && !c->failed && !c->stop) /* a core that outruns the disk waits */
        pthread_cond_wait(&c->idle, &c->mu);
    failed = c->failed;
    stopped = c->stop;
    if (!failed && !stopped) {
        if (c->tail) c->tail->next = jb;
        else c->head = jb;
        c->tail = jb;
        c->queued++;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->mu);
    Py_END_ALLOW_THREADS
    if (failed || stopped) {
        free_job(jb);
        if (failed) return raise_failure(c); /* the thread is past its failure: it no longer changes */
        PyErr_SetString(PyExc_ValueError, "journal committer is stopped");
        return NULL;
    }
    Py_RETURN_NONE;
nomem:
    PyErr_NoMemory();
error:
    free_job(jb);
    PyBuffer_Release(&blob);
    return NULL;
}

/* drain() -> (fd, seg_size, prev): wait for every batch, hand the tip back (detached). Raises the first failure. */
static PyObject *Committer_drain(Committer *c, PyObject *unused) {
    if (!usable(c)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&c->mu);
    while ((c->head != NULL || c->busy) && c->running) pthread_cond_wait(&c->idle, &c->mu);
    pthread_mutex_unlock(&c->mu);
    Py_END_ALLOW_THREADS
    c->attached = 0;
    if (c->failed) return raise_failure(c);
    return Py_BuildValue("(iLy#)", c->fd, (long long)c->seg_size, (const char *)c->prev, (Py_ssize_t)DIGEST_SIZE);
}

/* The fd the thread holds now (after a failure the writer closes it: the thread may have rolled). */
static PyObject *Committer_fd(Committer *c, PyObject *unused) {
    if (!usable(c)) return NULL;
    return PyLong_FromLong(c->fd);
}

static void signal_stop(Committer *c) {
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->wake);
    pthread_cond_broadcast(&c->idle); /* a submit waiting for room gives up */
    pthread_mutex_unlock(&c->mu);
}

/* Stop the thread after the batches before it and wait for it (without the GIL: the disk may be slow). */
static void stop_thread(Committer *c) {
    if (!c->running) return;
    Py_BEGIN_ALLOW_THREADS
    signal_stop(c);
    pthread_join(c->thread, NULL);
    Py_END_ALLOW_THREADS
    c->running = 0;
}

static PyObject *Committer_stop(Committer *c, PyObject *unused) {
    if (!usable(c)) return NULL;
    stop_thread(c);
    Py_RETURN_NONE;
}

static void Committer_dealloc(Committer *c) {
    if (c->ready) {
        if (c->pid == getpid()) stop_thread(c); /* a forked child has no thread to stop */
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->idle);
        free(c->directory);
        free(c->wbuf);
        for (job_item *jb = c->head; jb != NULL;) { /* left only in a forked child */
            job_item *next = jb->next;
            free_job(jb);
            jb = next;
        }
    }
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyMethodDef committer_methods[] = {
    {"attach", (PyCFunction)Committer_attach, METH_VARARGS, "attach(fd, seg_size, prev): hand the tip to the thread."},
    {"submit", (PyCFunction)Committer_submit, METH_VARARGS, "submit(blob, ts, seq, now): queue an encoded batch."},
    {"drain", (PyCFunction)Committer_drain, METH_NOARGS, "drain() -> (fd, seg_size, prev): wait, take the tip back."},
    {"fd", (PyCFunction)Committer_fd, METH_NOARGS, "The segment fd the thread holds."},
    {"stop", (PyCFunction)Committer_stop, METH_NOARGS, "End the thread."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject CommitterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "journal._cframer.Committer",
    .tp_basicsize = sizeof(Committer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Frames, writes and syncs a writer's non-durable batches on a thread that never takes the GIL.\n"
              "Committer(directory, magic, format_version, segment_bytes, header_size, max_record, v, sync_bytes,\n"
              "          max_queue)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Committer_init,
    .tp_dealloc = (destructor)Committer_dealloc,
    .tp_methods = committer_methods,
};

static PyMethodDef methods[] = {
    {"frame", frame, METH_VARARGS, "Frame a batch of encoded events (see journal/framer.py)."},
    {"event_times", event_times, METH_VARARGS, "Check a batch of events and return their ts (or None: see batch.py)."},
    {"blake2b_128", blake2b_128, METH_VARARGS, "BLAKE2b with a 16-byte digest (for tests against hashlib)."},
    {"crc32c", crc32c_py, METH_VARARGS, "CRC32C (for tests against the crc32c package)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cframer", "The journal's framing loop in C, and the thread that runs it for non-durable batches.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__cframer(void) {
    crc_init();
    if (PyType_Ready(&CommitterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&CommitterType);
    if (PyModule_AddObject(m, "Committer", (PyObject *)&CommitterType) < 0) {
        Py_DECREF(&CommitterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
