"""POST /services/workroute/v1/workflow/explain: what workflow would do for a change.

The change is saved and rolled back (see :mod:`workroute.workflow.explain`), so the
answer is exact and nothing is kept. Administrators only, like the rest of the
automation API: a traced save reads every rule and every value it tests.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from workroute.api.deps import get_principal
from workroute.api.routes.automation import AdminOrg
from workroute.auth.principal import Principal
from workroute.workflow.explain import explain_change

router = APIRouter(prefix="/services/workroute/v1", tags=["automation"])


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    object: str = Field(min_length=1, max_length=80)
    #: The record to edit; absent for a create.
    record_id: str | None = Field(default=None, alias="recordId", max_length=18)
    #: Field values as a REST create or update body gives them.
    values: dict[str, Any] = Field(default_factory=dict, max_length=500)


@router.post("/workflow/explain")
def explain(
    body: ExplainRequest,
    org: AdminOrg,
    principal: Annotated[Principal, Depends(get_principal)],
) -> dict[str, Any]:
    result = explain_change(
        org, body.object, body.values, user_id=principal.user_id, record_id=body.record_id
    )
    return result.to_json()
