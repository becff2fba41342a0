"""A pinned collection: provisions gathered from anywhere in the knowledge base, in pin order."""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel
from sqlmodel import Session

from kb import models, store
from kb.compare import ComparedProtocol
from kb.errors import KBError

MAX_PINNED = 100
"""Most provisions one collection holds (the ids travel in a URL)."""


class PinnedProvision(BaseModel):
    provision: models.ProvisionPublic
    protocol: ComparedProtocol
    sources: list[models.SourcePublic]


class Collection(BaseModel):
    items: list[PinnedProvision]
    missing: list[str]
    """Ids that name no provision in this build (a shared link can outlive a provision)."""


def collect(db: Session, ids: list[str]) -> Collection:
    ids = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if len(ids) > MAX_PINNED:
        raise KBError(f"a collection holds at most {MAX_PINNED} provisions; {len(ids)} were given")
    holding = store.protocols_holding(db, ids)
    items, missing = [], []
    for provision_id in ids:
        protocol = holding.get(provision_id)
        if protocol is None:
            missing.append(provision_id)
            continue
        provision = next(v for v in protocol.provisions if v.id == provision_id)
        items.append(
            PinnedProvision(
                provision=provision,
                protocol=ComparedProtocol.of(protocol),
                sources=[s for s in protocol.sources if s.key in provision.sources],
            )
        )
    return Collection(items=items, missing=missing)


def collection_markdown(collection: Collection) -> str:
    """Each provision as a section: where it comes from, what it says, and its sources."""
    lines = ["# Pinned provisions", ""]
    for item in collection.items:
        v, p = item.provision, item.protocol
        lines += [f"## {p.jurisdiction_name}: {v.heading}", ""]
        lines += [f"{p.title}, {p.citation} ({p.status.replace('_', ' ')}), {v.cite}.", ""]
        lines += [v.summary.strip(), ""]
        lines += [f"- Source: [{s.title}]({s.url})" for s in item.sources]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def collection_csv(collection: Collection) -> str:
    """One row per provision; UTF-8 with a byte-order mark for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "provision_id",
            "jurisdiction",
            "protocol",
            "citation",
            "status",
            "cite",
            "heading",
            "summary",
            "sources",
        ]
    )
    for item in collection.items:
        v, p = item.provision, item.protocol
        writer.writerow(
            [
                v.id,
                p.jurisdiction_name,
                p.title,
                p.citation,
                p.status,
                v.cite,
                v.heading,
                " ".join(v.summary.split()),
                "; ".join(s.url for s in item.sources),
            ]
        )
    return "\ufeff" + out.getvalue()
