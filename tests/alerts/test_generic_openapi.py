"""docs/openapi-generic-alert.yaml and the pydantic models of the generic format say the same thing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.alerts.generic import GenericAlert, GenericAlertBatch
from bot.domain.alerts import AlertStatus
from bot.domain.models import AssetKind, Severity, Side

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi-generic-alert.yaml"


def schemas() -> dict[str, Any]:
    doc = yaml.safe_load(DOC.read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.1")
    return dict(doc["components"]["schemas"])


class TestGenericOpenApi:
    def test_required_fields_agree(self) -> None:
        """The document's required fields are the model's, for one alert and for a batch."""
        docs = schemas()
        for model, name in ((GenericAlert, "GenericAlert"), (GenericAlertBatch, "GenericAlertBatch")):
            assert set(docs[name]["required"]) == set(model.model_json_schema()["required"]), name

    def test_properties_agree(self) -> None:
        """Every field is documented and nothing undocumented is declared."""
        docs = schemas()
        assert set(docs["GenericAlert"]["properties"]) == set(GenericAlert.model_fields)
        assert set(docs["GenericAlertBatch"]["properties"]) == set(GenericAlertBatch.model_fields)

    def test_enums_and_bounds_agree(self) -> None:
        """Status, severity, side and asset kinds list the model's values; the length bounds match."""
        props = schemas()["GenericAlert"]["properties"]
        assert props["status"]["enum"] == [s.value for s in AlertStatus]
        assert props["severity"]["enum"] == [*(s.value for s in Severity), None]
        assert props["side"]["enum"] == [*(s.value for s in Side), None]
        assert schemas()["Asset"]["properties"]["kind"]["enum"] == [k.value for k in AssetKind]
        model = GenericAlert.model_json_schema()["properties"]
        for field in ("dedup_key", "summary"):
            assert props[field]["maxLength"] == model[field]["maxLength"], field
            assert props[field]["minLength"] == model[field]["minLength"], field
        batch = schemas()["GenericAlertBatch"]["properties"]["alerts"]
        assert batch["maxItems"] == GenericAlertBatch.model_json_schema()["properties"]["alerts"]["maxItems"]
