"""Citizens' convention commands: the mandate and quotas, invitations from a registry
extract, volunteers' registration, the pool's commitment with its panel distribution, the
seed's reveal, the draw, acceptance and replacement, the sitting, sessions, proposals sent to
the council, the end of the mandate.

A mixin of `Registre` (domain/application.py), which provides the event store and the clock.
Commands run by `ConventionWorkflow`'s activities are idempotent: run twice, they return what
was recorded the first time. The panel distribution is computed by a `PanelSolver` passed in
(the HiGHS adapter, api/sortition_solver.py, wired by the worker; unit tests pass a small
one): the domain commits what it returns only after `sortition.check_distribution` accepts it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.convention.convention import Convention, ConventionStage
from domain.convention.volunteer import Volunteer, volunteer_id
from domain.errors import (
    AlreadyVolunteered,
    InvalidCharter,
    InvalidConvention,
    NotEligibleToVolunteer,
    NotOnPanel,
    ReasonRequired,
    RegistrationNotOpen,
    SeedBeforeCommitment,
    SeedRefused,
    UnknownConvention,
    UnknownConventionKind,
    WrongStage,
)
from domain.rules import sortition
from domain.rules.convention import (
    ConventionRules,
    category_values,
    invited,
    registry_digest,
    secret_commitment,
    seed_bytes,
    volunteer_refusal,
)
from domain.rules.petition import SignerClaims
from domain.topics import stored_topics

BUREAU_SEAT = "citoyens_tires_au_sort"  # the bureau's seat kind a `bureau` draw fills
VOLUNTEER_TOPICS = list(stored_topics(Volunteer.Registered, Volunteer.Withdrawn))

# What computes a committed pool's panel distribution: (people, quotas, size, method) →
# Distribution; raises `sortition.SortitionError` for a pool too small or infeasible quotas.
PanelSolver = Callable[[Sequence[sortition.Person], Sequence[sortition.Quota], int, str],
                       sortition.Distribution]


def randomness_of(rules: ConventionRules, seed_digest: str | None,
                  committed_at: datetime) -> dict[str, Any]:
    """What the commitment fixes of the seed's source before the seed exists."""
    if rules.randomness == "guarantor_secret":
        return {"source": "guarantor_secret", "secret_sha256": seed_digest}
    if rules.randomness == "dice":
        return {"source": "dice", "protocol": "at least 20 public dice (1 to 6) thrown after "
                "the commitment, their digits in order as the seed"}
    return {"source": "beacon", "after": committed_at.isoformat(),
            "protocol": "the value of the first public beacon round (drand quicknet) "
                        "produced after this commitment, in hex"}


class ConventionCommands:
    """The commands of citizens' conventions drawn by lot."""

    # -- reading -----------------------------------------------------------------------

    def get_convention(self, convention_id: UUID) -> Convention:
        try:
            convention = self.repository.get(convention_id)
        except AggregateNotFoundError:
            convention = None
        if not isinstance(convention, Convention):
            raise UnknownConvention(f"no convention {convention_id}")
        return convention

    # -- the mandate, invitations, the seed's commitment ---------------------------------

    def open_convention(self, metropolis_id: UUID, clerk_ref: str, kind: str, title: str,
                        mandate: str, overrides: Mapping[str, Any] | None = None
                        ) -> tuple[UUID, int]:
        """A clerk convenes a convention of a kind the charter in force offers: its rules
        (the kind's, with the overrides given: size, quotas, method, randomness, periods)
        are fixed in its first event and registration opens. Returns its id and position."""
        charter = self.get_charter(metropolis_id)
        kinds = charter.rules().offered_convention_kinds()
        if kind not in kinds:
            raise UnknownConventionKind(
                f"charter v{charter.current_version} offers no convention kind '{kind}': "
                f"{', '.join(kinds)}")
        try:
            rules = kinds[kind].with_overrides(overrides or {})
        except InvalidCharter as e:
            raise InvalidConvention(e.message, rule="convention.rules") from None
        except TypeError as e:
            raise InvalidConvention(str(e), rule="convention.rules") from None
        communes = self._member_communes(metropolis_id)
        for value in rules.quotas.get("commune", {}):
            if value not in communes:
                raise InvalidConvention(f"the commune quota names {value}, not a member "
                                        "commune", rule="convention.quotas")
        now = self.clock()
        convention = Convention(
            metropolis_id=metropolis_id, charter_version=charter.current_version, kind=kind,
            title=title, mandate=mandate, rules=rules.as_dict(), clerk_ref=clerk_ref, at=now,
            registration_closes_at=now + timedelta(seconds=rules.registration_seconds))
        return convention.id, self.save(convention)[-1].notification.id

    def draw_convention_invitations(self, convention_id: UUID, clerk_ref: str,
                                    entries: Sequence[str], seed: str) -> list[str]:
        """A clerk draws the invitations uniformly from a registry extract (its entries are
        pseudonyms of addresses or registry lines) with a public seed; the digest of the
        extract, the seed and the entries invited are recorded, once."""
        convention = self.get_convention(convention_id)
        rules = convention.convention_rules
        if convention.invited:
            raise InvalidConvention(f"convention {convention_id} has drawn its invitations",
                                    rule="convention.invitations")
        if not rules.invitations:
            raise InvalidConvention("this convention is an open call: its rules draw no "
                                    "invitations", rule="convention.invitations")
        distinct = sorted(set(entries))
        if len(distinct) < rules.invitations:
            raise InvalidConvention(
                f"the registry extract holds {len(distinct)} entries, fewer than the "
                f"{rules.invitations} invitations", rule="convention.invitations")
        if not seed.strip() or len(seed) > 200:
            raise InvalidConvention("the invitations' seed is a public value of 1 to 200 "
                                    "characters", rule="convention.invitations")
        chosen = invited(distinct, seed, rules.invitations)
        convention.draw_invitations(registry_size=len(distinct),
                                    registry_digest=registry_digest(distinct), seed=seed,
                                    invited=chosen, clerk_ref=clerk_ref, at=self.clock())
        self.save(convention)
        return chosen

    def commit_convention_seed(self, convention_id: UUID, guarantor_ref: str,
                               digest: str) -> int:
        """The guarantor commits SHA-256 of a secret (hex) before the pool closes, for a
        convention whose randomness is the guarantor's secret."""
        convention = self.get_convention(convention_id)
        if convention.convention_rules.randomness != "guarantor_secret":
            raise SeedRefused("this convention's seed does not come from the guarantor's "
                              "secret")
        digest = digest.strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise SeedRefused("the commitment is SHA-256 of the secret, 64 hex digits")
        convention.commit_seed(digest=digest, guarantor_ref=guarantor_ref, at=self.clock())
        return self.save(convention)[-1].notification.id

    # -- registration ------------------------------------------------------------------

    def register_volunteer(self, convention_id: UUID, ref: str, claims: SignerClaims,
                           values: Mapping[str, str], contact: str = "") -> int:
        """A resident volunteers during registration, once, with one value per category of
        the quotas (the commune from the identity provider); values and contact are sealed
        under the person's key. Returns the registration's log position."""
        convention = self.get_convention(convention_id)
        if not convention.is_registering(self.clock()):
            raise RegistrationNotOpen(f"convention {convention_id} is not taking volunteers")
        rules = convention.convention_rules
        refused = volunteer_refusal(rules, claims,
                                    self._member_communes(convention.metropolis_id), values,
                                    self.clock().date())
        if refused is not None:
            raise NotEligibleToVolunteer(refused[1], rule=refused[0])
        try:
            existing = self.repository.get(volunteer_id(convention_id, ref))
        except AggregateNotFoundError:
            existing = None
        if existing is not None:
            raise AlreadyVolunteered("this person has already volunteered for this convention")
        pool_values = category_values(rules, claims, values)
        metropolis = convention.metropolis_id
        volunteer = Volunteer(
            convention_id=convention_id, ref=ref,
            values_sealed=self._seal(metropolis, ref, "categories",
                                     json.dumps(pool_values, sort_keys=True)),
            contact_sealed=self._seal(metropolis, ref, "contact", contact),
            at=self.clock())
        try:
            return self.save(volunteer)[0].notification.id
        except IntegrityError:
            raise AlreadyVolunteered(
                "this person has already volunteered for this convention") from None

    def withdraw_volunteer(self, convention_id: UUID, ref: str) -> int:
        """A volunteer withdraws before the pool closes."""
        convention = self.get_convention(convention_id)
        if not convention.is_registering(self.clock()):
            raise RegistrationNotOpen(f"convention {convention_id} is not taking volunteers")
        try:
            volunteer = self.repository.get(volunteer_id(convention_id, ref))
        except AggregateNotFoundError:
            volunteer = None
        if not isinstance(volunteer, Volunteer) or volunteer.withdrawn:
            raise NotOnPanel("this person is not a volunteer of this convention")
        volunteer.withdraw(at=self.clock())
        return self.save(volunteer)[-1].notification.id

    def convention_pool(self, convention_id: UUID, upto: int | None = None
                        ) -> list[tuple[str, dict[str, str]]]:
        """The pool up to log position `upto` (default: all): each volunteer not withdrawn
        whose data key still opens their values, as (pseudonym, category values), sorted."""
        convention = self.get_convention(convention_id)
        opened = self.position_of(convention.id, 1)
        registered: dict[str, str] = {}
        start = opened + 1
        while True:
            page = self.recorder.select_notifications(
                start=start, limit=1000, stop=upto, topics=VOLUNTEER_TOPICS)
            if not page:
                break
            for notification in page:
                if upto is not None and notification.id > upto:
                    break
                e = self.mapper.to_domain_event(notification)
                if e.convention_id != convention_id:
                    continue
                if isinstance(e, Volunteer.Registered):
                    registered[e.ref] = e.values_sealed
                else:
                    registered.pop(e.ref, None)
            start = page[-1].id + 1
        refs = sorted(registered)
        return [(ref, json.loads(clear)) for ref, clear in zip(refs, self._open_values(
            [registered[r] for r in refs])) if clear is not None]

    def _open_values(self, sealed: list[str]) -> list[str | None]:
        """Each sealed text opened (None: erased, or tampered with), in one key lookup when
        the adapter can (`open_all`)."""
        open_all = getattr(self.personal_data, "open_all", None)
        if open_all is not None:
            try:
                return list(open_all(sealed))
            except ValueError:
                pass  # one was tampered with: open them one by one to leave it alone out
        opened: list[str | None] = []
        for text in sealed:
            try:
                opened.append(self.personal_data.open(text))
            except ValueError:
                opened.append(None)
        return opened

    # -- the commitment ----------------------------------------------------------------

    def commit_convention_pool(self, convention_id: UUID, at: datetime,
                               solver: PanelSolver) -> str | None:
        """At registration's end: close the pool at the current log position, compute the
        panel distribution over it, check it, and commit pool, quotas, algorithm, version,
        distribution and randomness source in one event (idempotent: returns the
        commitment; None when the pool failed — too small, or quotas no panel meets — and
        the convention ended `failed`, the smallest relaxation recorded)."""
        convention = self.get_convention(convention_id)
        if convention.commitment is not None:
            return convention.commitment
        if convention.stage == ConventionStage.ENDED:
            return None
        convention.require(ConventionStage.REGISTRATION)
        rules = convention.convention_rules
        if rules.randomness == "guarantor_secret" and convention.seed_digest is None:
            raise WrongStage(f"convention {convention_id} awaits the guarantor's committed "
                             "secret before its pool closes")
        close_position = self.recorder.max_notification_id() or 0
        pool = self.convention_pool(convention_id, upto=close_position)
        people = [sortition.person(ref, values) for ref, values in pool]
        quotas = [sortition.Quota(c, v, lo, hi) for c, v, lo, hi in rules.quota_list()]
        try:
            sortition.check_pool(people, quotas, rules.size)
            distribution = solver(people, quotas, rules.size, rules.method)
        except sortition.SortitionError as e:
            convention.fail_pool(close_position=close_position, pool_size=len(people),
                                 rule=e.rule, message=str(e),
                                 relaxation=list(e.details.get("relaxation", [])), at=at)
            self.save(convention)
            return None
        problems = sortition.check_distribution(people, quotas, rules.size, distribution)
        if problems:
            raise InvalidConvention("the solver's distribution is not valid: "
                                    + "; ".join(problems[:3]), rule="convention.distribution")
        randomness = randomness_of(rules, convention.seed_digest, at)
        commitment = sortition.commitment(people, quotas, rules.size, rules.method,
                                          sortition.ALGORITHM_VERSION, distribution,
                                          json.dumps(randomness, sort_keys=True))
        convention.commit_pool(
            close_position=close_position, pool=[[ref, values] for ref, values in pool],
            quotas=[[q.feature, q.value, q.min, q.max] for q in quotas], size=rules.size,
            method=rules.method, algorithm_version=sortition.ALGORITHM_VERSION,
            distribution=distribution.to_json(), randomness=randomness,
            commitment=commitment, at=at,
            reveal_by=at + timedelta(seconds=rules.reveal_seconds))
        self.save(convention)
        return commitment

    # -- the seed, the draw, acceptance ------------------------------------------------

    def reveal_convention_seed(self, convention_id: UUID, revealed_by: str, seed: str) -> int:
        """The seed is revealed after the commitment: the guarantor's secret (its SHA-256
        must be the one committed), the public dice's digits, or the beacon's value."""
        convention = self.get_convention(convention_id)
        rules = convention.convention_rules
        if convention.stage == ConventionStage.REGISTRATION:
            raise SeedBeforeCommitment(
                f"convention {convention_id} has not committed its pool: no seed may be "
                "revealed before the commitment")
        convention.require(ConventionStage.COMMITTED)
        try:
            seed_bytes(rules.randomness, seed)
        except ValueError as e:
            raise SeedRefused(str(e)) from None
        seed = seed.strip().lower()
        if (rules.randomness == "guarantor_secret"
                and secret_commitment(seed) != convention.seed_digest):
            raise SeedRefused("SHA-256 of this secret is not the one the guarantor committed")
        convention.reveal_seed(seed=seed, revealed_by=revealed_by, at=self.clock())
        return self.save(convention)[-1].notification.id

    def _committed_people(self, convention: Convention
                          ) -> tuple[list[sortition.Person], list[sortition.Quota], int,
                                     sortition.Distribution]:
        c = convention.committed or {}
        people = [sortition.person(ref, values) for ref, values in c["pool"]]
        quotas = [sortition.Quota(*q) for q in c["quotas"]]
        return people, quotas, c["size"], sortition.Distribution.from_json(c["distribution"])

    def draw_convention_panel(self, convention_id: UUID, at: datetime) -> list[str]:
        """Once the seed is revealed: draw the panel from the committed distribution with
        the whole seed (idempotent: returns the panel drawn)."""
        convention = self.get_convention(convention_id)
        if convention.panel or convention.stage in (ConventionStage.ACCEPTANCE,
                                                    ConventionStage.SITTING):
            return convention.panel
        convention.require(ConventionStage.REVEALED)
        people, _, _, distribution = self._committed_people(convention)
        rules = convention.convention_rules
        panel = list(sortition.draw(people, distribution,
                                    seed_bytes(rules.randomness, convention.seed or "")))
        convention.draw_panel(panel=panel, at=at, acceptance_closes_at=at + timedelta(
            seconds=rules.acceptance_seconds))
        self.save(convention)
        return panel

    def answer_convention_seat(self, convention_id: UUID, member: str, accept: bool) -> int:
        """A drawn member accepts or declines their seat during acceptance; a declined seat
        goes to an alternate with the same category values, drawn with the same seed."""
        convention = self.get_convention(convention_id)
        convention.require(ConventionStage.ACCEPTANCE)
        if member not in convention.panel:
            raise NotOnPanel("this person holds no seat on the panel")
        if member in convention.accepted:
            raise WrongStage("this member has already accepted their seat")
        if accept:
            convention.accept_seat(member=member, at=self.clock())
        else:
            people, quotas, size, _ = self._committed_people(convention)
            rules = convention.convention_rules
            index = len(convention.declined)
            replacement = sortition.replacement(
                people, quotas, size, convention.panel, member,
                seed_bytes(rules.randomness, convention.seed or ""), index,
                excluded=convention.declined)  # whoever declined before is no alternate
            convention.decline_seat(member=member, index=index, replacement=replacement,
                                    at=self.clock())
        return self.save(convention)[-1].notification.id

    # -- the sitting -------------------------------------------------------------------

    def open_convention_sitting(self, convention_id: UUID, at: datetime) -> datetime:
        """At acceptance's end: the panel as it stands sits (members silent at the deadline
        keep the seat they volunteered for) for its term (idempotent); the term's end."""
        convention = self.get_convention(convention_id)
        if convention.stage == ConventionStage.ACCEPTANCE:
            convention.open_sitting(members=list(convention.panel), at=at, term_ends_at=at + (
                timedelta(seconds=convention.convention_rules.term_seconds)))
            self.save(convention)
        if convention.term_ends_at is None:
            raise WrongStage(f"convention {convention_id} is in stage '{convention.stage}'")
        return convention.term_ends_at

    def record_convention_session(self, convention_id: UUID, clerk_ref: str, number: int,
                                  summary: str) -> int:
        """A clerk records a session held by the sitting convention (numbered from 1)."""
        convention = self.get_convention(convention_id)
        convention.require(ConventionStage.SITTING)
        if number in convention.sessions or number < 1:
            raise InvalidConvention(f"session {number} is recorded already, or not a "
                                    "session number", rule="convention.sessions")
        convention.hold_session(number=number, summary=summary, clerk_ref=clerk_ref,
                                at=self.clock())
        return self.save(convention)[-1].notification.id

    def seat_convention_members(self, convention_id: UUID, clerk_ref: str,
                                proposal_id: UUID | None = None) -> int:
        """The sitting members of a `bureau` draw take the collegial bureau's citizen seats
        (`citoyens_tires_au_sort`) for the term; those of an `evaluation` draw become the
        citizens' evaluation panel of the adopted proposal named. Once per convention."""
        convention = self.get_convention(convention_id)
        convention.require(ConventionStage.SITTING)
        if convention.seated_in is not None:
            raise InvalidConvention(f"the members already sit in {convention.seated_in}",
                                    rule="convention.seated")
        now = self.clock()
        if convention.kind == "bureau":
            for member in convention.members:
                self.fill_bureau_seat(convention.metropolis_id, BUREAU_SEAT, member,
                                      convention.term_ends_at or now)
            body, target = "bureau", str(convention.metropolis_id)
        elif convention.kind == "evaluation":
            if proposal_id is None:
                raise InvalidConvention("an evaluation panel is seated on an adopted "
                                        "proposal: name it", rule="convention.seated")
            self.appoint_evaluation_panel_by_lot(proposal_id, clerk_ref, convention.members,
                                                 f"sortition:{convention_id}")
            body, target = "evaluation", str(proposal_id)
        else:
            raise InvalidConvention(f"a '{convention.kind}' convention takes no seats: only "
                                    "the kinds `bureau` and `evaluation` do",
                                    rule="convention.seated")
        convention.seat_members(body=body, target=target, clerk_ref=clerk_ref, at=now)
        return self.save(convention)[-1].notification.id

    def appoint_evaluation_panel_by_lot(self, proposal_id: UUID, clerk_ref: str,
                                        members: list[str], method: str) -> int:
        proposal = self.get_proposal(proposal_id)
        proposal.appoint_evaluation_panel(clerk_ref, members, method=method)
        return self.save(proposal)[-1].notification.id

    def send_convention_proposal(self, convention_id: UUID, clerk_ref: str, title: str,
                                 summary: str, communes: Sequence[str] = ()
                                 ) -> tuple[UUID, int]:
        """The sitting convention sends one of its proposals to the council: it enters the
        deliberation lifecycle (admissibility, consultation, the council's vote), which
        obliges the council to answer it. Its author is the convention."""
        convention = self.get_convention(convention_id)
        convention.require(ConventionStage.SITTING)
        proposal_id, _ = self.submit_proposal(
            convention.metropolis_id, f"convention:{convention_id}", title, summary, communes)
        convention.send_proposal(proposal_id=proposal_id, clerk_ref=clerk_ref,
                                 at=self.clock())
        return proposal_id, self.save(convention)[-1].notification.id

    def end_convention(self, convention_id: UUID, at: datetime, outcome: str = "completed",
                       reason: str = "") -> str:
        """End the convention (idempotent): `completed` at the end of its term, or
        `cancelled` (reasoned) at any stage before."""
        convention = self.get_convention(convention_id)
        if convention.stage == ConventionStage.ENDED:
            return convention.outcome or ""
        if outcome == "completed":
            convention.require(ConventionStage.SITTING)
        elif outcome == "cancelled":
            if not reason.strip():
                raise ReasonRequired("cancelling a convention gives its reasons")
        else:
            raise InvalidConvention("a convention ends completed or cancelled")
        convention.end(outcome=outcome, reason=reason, at=at)
        self.save(convention)
        return outcome
