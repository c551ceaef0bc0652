/* The journal's framing loop in C: envelope, CRC32C, BLAKE2b-128 hash chain, frame heads.
 *
 * journal/framer.py holds the reference implementation in Python and the contract; this module
 * writes exactly the same bytes (tests/test_journal_framer.py checks it on arbitrary batches).
 * Input: a msgpack array of encoded events (one msgspec call for a whole batch) and their `ts`.
 * Each record's payload is the msgpack array [seq, ts, recorded_at, v, prev, event], which is
 * what msgspec writes for a `journal.record.Record`, with the event's bytes copied verbatim.
 * The loop runs without the GIL: a backtest frames its journal on a second core while the
 * decision core keeps running on the first.
 *
 * BLAKE2b follows RFC 7693 (unkeyed, 16-byte digest); CRC32C is Castagnoli, slicing by 8.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

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

static void b2_compress(b2_state *s, int last) {
    uint64_t v[16], m[16];
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = B2_IV[i];
    }
    v[12] ^= s->t;
    if (last) v[14] = ~v[14];
    for (int i = 0; i < 16; i++) m[i] = load64(s->buf + 8 * i);
    for (int r = 0; r < 12; r++) {
        const uint8_t *g = B2_SIGMA[r];
        B2_G(0, 4, 8, 12, m[g[0]], m[g[1]]);
        B2_G(1, 5, 9, 13, m[g[2]], m[g[3]]);
        B2_G(2, 6, 10, 14, m[g[4]], m[g[5]]);
        B2_G(3, 7, 11, 15, m[g[6]], m[g[7]]);
        B2_G(0, 5, 10, 15, m[g[8]], m[g[9]]);
        B2_G(1, 6, 11, 12, m[g[10]], m[g[11]]);
        B2_G(2, 7, 8, 13, m[g[12]], m[g[13]]);
        B2_G(3, 4, 9, 14, m[g[14]], m[g[15]]);
    }
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
#define ENVELOPE_MAX (1 + 4 * 9 + 2 + 255) /* fixarray, four ints, bin8 header + prev */

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
    const uint8_t *p = blob.buf, *end = p + blob.len;
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
        goto done;
    }
    if (n_items != (uint64_t)count) {
        PyErr_Format(PyExc_ValueError, "%llu encoded events for %zd timestamps", (unsigned long long)n_items, count);
        goto done;
    }
    int64_t *ts = PyMem_Malloc(sizeof(int64_t) * (size_t)(count ? count : 1));
    roll_t *rolls = PyMem_Malloc(sizeof(roll_t) * (size_t)(count ? count : 1));
    j.ts = ts;
    j.rolls = rolls;
    if (ts == NULL || rolls == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *t = PyList_GET_ITEM(ts_list, i);
        if (!PyLong_Check(t)) {
            PyErr_Format(PyExc_TypeError, "event %zd: ts is not an int", i);
            goto done;
        }
        ts[i] = PyLong_AsLongLong(t);
        if (ts[i] == -1 && PyErr_Occurred()) goto done;
    }
    Py_ssize_t bound = (Py_ssize_t)(end - p);
    if (count > (PY_SSIZE_T_MAX - bound) / (FRAME_HEAD + ENVELOPE_MAX)) {
        PyErr_NoMemory();
        goto done;
    }
    bound += count * (FRAME_HEAD + ENVELOPE_MAX);
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

static PyMethodDef methods[] = {
    {"frame", frame, METH_VARARGS, "Frame a batch of encoded events (see journal/framer.py)."},
    {"blake2b_128", blake2b_128, METH_VARARGS, "BLAKE2b with a 16-byte digest (for tests against hashlib)."},
    {"crc32c", crc32c_py, METH_VARARGS, "CRC32C (for tests against the crc32c package)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cframer", "The journal's framing loop in C.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__cframer(void) {
    crc_init();
    return PyModule_Create(&module);
}
