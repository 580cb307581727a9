"""The lifecycle every sandbox part shares: `start()` returns the running part, `stop()` ends it, `with` does both."""
from __future__ import annotations

from typing import Self


class Service:
    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
