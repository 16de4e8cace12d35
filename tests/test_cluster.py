"""The Dask backend's own failures, without a cluster: a client stands in."""

from __future__ import annotations

import pytest

from sweep.errors import SweepError
from sweep.runner import cluster


class _DyingClient:
    """A local cluster's client whose worker dies while a plugin is registered."""

    closed = False

    def register_plugin(self, plugin, name: str) -> None:
        from distributed.comm.core import CommClosedError

        raise CommClosedError(
            "in <TCP (closed) ConnectionPool.register_worker_plugin local=tcp://127.0.0.1:1>: "
            "Stream is closed"
        )

    def run(self, *args, **kwargs):
        raise OSError("gone")

    def close(self) -> None:
        self.closed = True


def test_a_worker_that_dies_as_the_plugin_reaches_it_is_the_one_line_of_deaths(monkeypatch):
    pytest.importorskip("dask.distributed")  # the [dask] extra is in CI's install
    client = _DyingClient()
    monkeypatch.setattr(cluster, "_dask_client", lambda scheduler, jobs: client)
    with pytest.raises(SweepError) as caught:
        list(cluster.on_dask([], 1, None))
    message = str(caught.value)
    assert "died" in message and "run the same command again" in message
    assert "\n" not in message and client.closed
