"""Stored topics of events whose class moved: events recorded before the domain became one
package per process name their class by its old module (`domain.proposal:Proposal.Submitted`);
those topics resolve to today's classes, and followers that select events by topic ask for
both spellings.
"""

from __future__ import annotations

import importlib

from eventsourcing.utils import get_topic, register_topic

from domain.ledger.leaf import MOVED_MODULES

for _old, _new in MOVED_MODULES.items():
    register_topic(_old, importlib.import_module(_new))


def stored_topics(*classes: type) -> tuple[str, ...]:
    """Every topic under which events of `classes` may be stored: today's and the old one."""
    renamed = {new: old for old, new in MOVED_MODULES.items()}
    topics: list[str] = []
    for cls in classes:
        topic = get_topic(cls)
        topics.append(topic)
        module, _, name = topic.partition(":")
        if module in renamed:
            topics.append(f"{renamed[module]}:{name}")
    return tuple(topics)
