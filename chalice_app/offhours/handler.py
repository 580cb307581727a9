"""Lambda entry for offhours: placeholder until the feature lands (raises, so nothing pretends to work)."""
from chalice_app.observability import instrumented


@instrumented()
def handle(event: dict, context) -> dict:
    raise NotImplementedError("offhours handler is not built yet")
