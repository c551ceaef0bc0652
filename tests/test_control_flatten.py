"""An operator flatten reaches a running bot through the control channel like every other request."""
from cli.control import REQUEST_TYPES, drain_requests, submit_request
from journal.events import FlattenRequested


def test_flatten_request_round_trips_through_the_control_channel(tmp_path):
    assert FlattenRequested in REQUEST_TYPES
    submit_request(tmp_path, FlattenRequested(ts=5, reason="operator"))
    assert drain_requests(tmp_path) == [FlattenRequested(ts=5, reason="operator")]
    assert drain_requests(tmp_path) == []
