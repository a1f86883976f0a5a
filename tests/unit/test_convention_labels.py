"""The French wording of a convention's timeline (projections/labels.py): what citizens read
of each convention event, from its fields alone."""

from __future__ import annotations

from datetime import datetime, timezone

from projections.labels import CONVENTION_LABELS, convention_label, relaxation_fr
from domain.convention.convention import Convention

AT = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)


def test_every_convention_event_has_a_french_label_when_the_view_follows_it() -> None:
    from projections.conventions import ConventionProjection

    names = {t.rpartition(":")[2] for t in ConventionProjection.topics
             if t.startswith("domain.convention.convention:")}
    assert names == set(CONVENTION_LABELS)
    assert all(hasattr(Convention, n.partition(".")[2]) for n in names)


def test_declined_seat_names_its_alternate_when_one_fits() -> None:
    assert convention_label("Convention.SeatDeclined", {
        "member": "p1", "index": 0, "replacement": "p7"}) == (
        "Siège refusé — remplacé par p7 (siège de p1)")
    assert convention_label("Convention.SeatDeclined", {
        "member": "p1", "index": 0, "replacement": None}) == (
        "Siège refusé — aucun remplaçant ne convient (siège de p1)")


def test_end_says_fin_du_mandat_when_completed_and_the_reason_when_cancelled() -> None:
    assert convention_label("Convention.Ended", {"outcome": "completed", "reason": ""}) == (
        "Fin du mandat")
    assert convention_label("Convention.Ended", {"outcome": "cancelled",
                                                 "reason": "mandat retiré"}) == (
        "Convention annulée : mandat retiré")


def test_failed_pool_says_its_smallest_relaxation_when_one_is_known() -> None:
    relaxation = [{"feature": "gender", "value": "f", "bound": "min", "from": 2, "to": 1}]
    assert relaxation_fr(relaxation) == "minimum de gender = f de 2 à 1"
    label = convention_label("Convention.PoolFailed", {
        "pool_size": 5, "message": "no panel meets them", "relaxation": relaxation,
        "rule": "sortition.infeasible_quotas"})
    assert label == ("Vivier clos sans panel possible (5 volontaires) : aucun panel tiré de "
                     "ce vivier ne respecte les quotas — assouplissement le plus petit : "
                     "minimum de gender = f de 2 à 1")


def test_session_and_sitting_labels_give_numbers_and_dates() -> None:
    assert convention_label("Convention.SessionHeld", {"number": 3, "summary": "Auditions",
                                                       "clerk_ref": "g", "at": AT}) == (
        "Séance 3 : Auditions")
    assert convention_label("Convention.SittingOpened", {
        "members": ["a", "b"], "at": AT, "term_ends_at": AT}) == (
        "Installation : 2 membre(s) siègent jusqu'au 01/03/2027 à 09:00:00 UTC")
