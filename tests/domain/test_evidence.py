"""Checklist templates: the items of DOMAIN.md's evidence table, with the roles the decision rules read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.domain.evidence import DEFAULT_CHECKLISTS, ChecklistItemSpec, Checklists, ItemKey
from bot.domain.models import EvidenceStatus, ItemRole, Side
from tests.domain.builders import ALL_REFS, SHIFT_CHECKS

ROLES = {
    "mlops.model_version": ItemRole.RELEASE,
    "mlops.serving_health": ItemRole.SERVING,
    "mlops.prediction_logs": ItemRole.SYMPTOM,
    "mlops.label_feedback": ItemRole.SYMPTOM,
    "mlops.drift_signals": ItemRole.SYMPTOM,
    "dataops.table_freshness": ItemRole.UPSTREAM,
    "dataops.volume": ItemRole.UPSTREAM,
    "dataops.schema_changes": ItemRole.UPSTREAM,
    "dataops.feature_lineage": ItemRole.UPSTREAM,
    "dataops.failed_jobs": ItemRole.UPSTREAM,
    "dataops.recent_backfills": ItemRole.UPSTREAM,
}


class TestChecklists:
    def test_default_items_are_domain_md_items_in_order(self) -> None:
        """Both sides' default items are the eleven of DOMAIN.md, MLOps first, in table order."""
        assert tuple(Checklists().refs()) == ALL_REFS
        assert {s.key for side in Side for s in DEFAULT_CHECKLISTS[side]} == {k.value for k in ItemKey}

    def test_each_item_has_the_role_the_rules_read(self) -> None:
        """Serving, release, symptom and upstream roles are pinned item by item."""
        assert {ref: item.role for ref, item in Checklists().blank_evidence().items()} == ROLES

    def test_population_shift_needs_freshness_volume_schema_and_lineage(self) -> None:
        """Exactly the four data checks of rule 3 must be known before a shift is proposed."""
        required = tuple(r for r, i in Checklists().blank_evidence().items() if i.required_for_shift)
        assert required == SHIFT_CHECKS

    def test_blank_evidence_is_all_unknown_and_unsourced(self) -> None:
        """A new incident's evidence is every item unknown, with no source, time or asset."""
        for item in Checklists().blank_evidence().values():
            assert item.status is EvidenceStatus.UNKNOWN
            assert (item.source, item.updated_at, item.asset, item.detail) == (None, None, None, "")

    def test_spec_lookup(self) -> None:
        """spec finds an item by side and key, and None for a key of the other side."""
        checklists = Checklists()
        spec = checklists.spec(Side.DATAOPS, "volume")
        assert spec is not None
        assert spec.label == "Volume"
        assert checklists.spec(Side.MLOPS, "volume") is None

    def test_custom_checklist_replaces_a_side(self) -> None:
        """A custom template for one side is what that side's blank evidence holds."""
        custom = Checklists(
            items={
                Side.MLOPS: (ChecklistItemSpec(key="gpu_memory", label="GPU memory", role=ItemRole.SERVING),),
                Side.DATAOPS: DEFAULT_CHECKLISTS[Side.DATAOPS],
            }
        )
        assert next(iter(custom.refs())) == "mlops.gpu_memory"
        assert len(custom.blank_evidence()) == 7

    @pytest.mark.parametrize("key", ["Volume", "1st", "a-b", "", "x" * 41])
    def test_item_keys_are_validated(self, key: str) -> None:
        """Item keys are lowercase identifiers of at most 40 characters."""
        with pytest.raises(ValidationError):
            ChecklistItemSpec(key=key, label="L", role=ItemRole.UPSTREAM)
