"""The canonical JSON dump of everything in the store, in a stable order."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from kb import models, store

EXPORT_FORMAT = "protocol-kb/export@2"
"""@2: the API's names and shapes (`citation`, `provision_ids`, dates with their precision)."""


def export_data(db: Session) -> dict[str, Any]:
    """Everything, sorted by id (provisions and sources keep their order in the file).

    Two builds of the same content export identically: the build time is left out, the content
    version (a digest of the files) is in. Records are written as the API writes them.
    """
    info = store.build_info(db)
    contexts = db.exec(select(models.ContextRecord).order_by(col(models.ContextRecord.id))).all()
    context_sources = db.exec(
        select(models.Source)
        .where(col(models.Source.owner_id).in_([c.id for c in contexts]))
        .order_by(col(models.Source.owner_id), col(models.Source.position))
    ).all()
    protocols = sorted(store.get_protocols(db), key=lambda p: p.id)
    return {
        "format": EXPORT_FORMAT,
        "version": info.version,
        "counts": info.counts,
        "codebook": [key.model_dump(mode="json", by_alias=True) for key in store.codebook_keys(db)],
        "topics": [t.model_dump(mode="json", by_alias=True) for t in store.list_topics(db)],
        "jurisdictions": sorted(
            (j.model_dump(mode="json", by_alias=True) for j in store.list_jurisdictions(db)),
            key=lambda j: j["id"],
        ),
        "protocols": [p.model_dump(mode="json", by_alias=True) for p in protocols],
        "context": [
            {
                **models.ContextRecordPublic.model_validate(c).model_dump(
                    mode="json", by_alias=True
                ),
                "sources": [
                    models.SourcePublic.model_validate(s).model_dump(mode="json", by_alias=True)
                    for s in context_sources
                    if s.owner_id == c.id
                ],
            }
            for c in contexts
        ],
        "models": {
            "provisions": sorted(
                (m.model_dump(mode="json", by_alias=True) for m in store.model_provisions(db)),
                key=lambda m: m["id"],
            ),
            "terms": sorted(
                (t.model_dump(mode="json", by_alias=True) for t in store.model_terms(db)),
                key=lambda t: t["id"],
            ),
            "findings": [
                f.model_dump(mode="json", by_alias=True) for f in store.model_findings(db)
            ],
        },
    }


def export_json(db: Session) -> str:
    return json.dumps(export_data(db), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
