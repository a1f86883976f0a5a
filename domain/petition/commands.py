"""Petition commands (right of interpellation): drafting, sponsors, admissibility, the
collection of signatures, the threshold, the obligation and its breach, closing.

A mixin of `Registre` (domain/application.py), which provides the event store and the clock.
Commands run by `PetitionWorkflow`'s activities are idempotent: run twice, they return what
was recorded the first time. Signatures come through `signature_act`, an act for the
group-commit writer (D11): its fast path assumes a first signature and reads the petition from
a cache of at most `PETITION_CACHE_SECONDS` (the period's end is still checked against the
clock; the compliance check and the recount never count a signature stored after the close);
its fallback is the full command, alone in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.errors import (
    AlreadySponsored,
    CollectionNotOpen,
    NoElectorate,
    NoObligationOpen,
    NoSignature,
    NotACompetence,
    NotASponsor,
    NotEligibleToSign,
    NotTheAuthor,
    PetitionCommuneRequired,
    ReasonRequired,
    SignatureAlreadyGiven,
    SignerLimitReached,
    ThresholdAlreadyReached,
    UnknownCommune,
    UnknownPetition,
    UnknownPetitionKind,
    WrongObligation,
    WrongStage,
)
from domain.petition.petition import Petition, PetitionStage
from domain.petition.signature import (
    Electorate,
    PaperBatch,
    Signature,
    SigningAllowance,
    signature_id,
)
from domain.rules.petition import (
    ONLINE,
    PAPER,
    PetitionKind,
    SignatureCount,
    SignerClaims,
    limit_period,
    obligation_due,
    refusal_to_sign,
)
from domain.topics import stored_topics

PETITION_CACHE_SECONDS = 1.0
SIGNATURE_TOPICS = list(stored_topics(Signature.Signed, Signature.Withdrawn, Signature.Renewed))
PETITION_AUTHOR_PREFIX = "petition:"  # the author of an agenda proposal: the signers


@dataclass(frozen=True)
class SignatureAct:
    """A signature for the group-commit writer (`domain.ports.Act`)."""

    prepare: Callable[[], list[Aggregate]]
    fallback: Callable[[], int]


@dataclass(frozen=True)
class _Signing:
    """What the fast path of a signature reads of its petition (cached, see above)."""

    read_at: datetime
    petition: Petition
    rules: PetitionKind
    communes: frozenset[str]


@dataclass(frozen=True)
class CollectionOpenedResult:
    closes_at: datetime
    threshold: int
    position: int


@dataclass(frozen=True)
class CollectionClosedResult:
    position: int
    count: int
    crossed_at: int | None


class PetitionCommands:
    """The commands of the petition process."""

    # -- reading -----------------------------------------------------------------------

    def get_petition(self, petition_id: UUID) -> Petition:
        try:
            petition = self.repository.get(petition_id)
        except AggregateNotFoundError:
            petition = None
        if not isinstance(petition, Petition):
            raise UnknownPetition(f"no petition {petition_id}")
        return petition

    def _cached_petition(self, petition_id: UUID, now: datetime) -> _Signing:
        """The petition as read at most `PETITION_CACHE_SECONDS` before `now`, with its kind's
        rules and its metropolis' communes (both fixed once the petition is drafted)."""
        cache: dict[UUID, _Signing] = self.__dict__.setdefault("_petition_cache", {})
        hit = cache.get(petition_id)
        if hit is not None and now - hit.read_at < timedelta(seconds=PETITION_CACHE_SECONDS):
            return hit
        petition = self.get_petition(petition_id)
        signing = _Signing(now, petition, petition.kind_rules,
                           frozenset(self._member_communes(petition.metropolis_id)))
        if len(cache) > 10_000:
            cache.clear()
        cache[petition_id] = signing
        return signing

    def _member_communes(self, metropolis_id: UUID) -> list[str]:
        cache: dict[UUID, list[str]] = self.__dict__.setdefault("_communes_cache", {})
        if metropolis_id not in cache:
            cache[metropolis_id] = [c["code"] for c in
                                    self.get_metropolis(metropolis_id).communes]
        return cache[metropolis_id]

    def petition_kind(self, metropolis_id: UUID, kind: str) -> tuple[int, PetitionKind]:
        """The charter version in force and its petition kind `kind` (409 if none)."""
        charter = self.get_charter(metropolis_id)
        kinds = charter.rules().offered_petition_kinds()
        if kind not in kinds:
            raise UnknownPetitionKind(
                f"charter v{charter.current_version} offers no petition kind '{kind}': "
                f"{', '.join(kinds)}")
        return charter.current_version, kinds[kind]

    # -- drafting and sponsors ---------------------------------------------------------

    def draft_petition(self, metropolis_id: UUID, author_ref: str, kind: str, title: str,
                       text: str, commune: str | None = None,
                       claims: SignerClaims | None = None) -> tuple[UUID, int]:
        """A citizen drafts a petition of a kind the charter in force offers (pinned); its
        title and text are sealed under the author's key. Returns its id and log position.
        With `claims` (what the identity provider vouches for the author), the author must be
        one who could sign it, as every sponsor must."""
        version, rules = self.petition_kind(metropolis_id, kind)
        communes = self._member_communes(metropolis_id)
        if rules.scope == "commune":
            if commune is None:
                raise PetitionCommuneRequired(f"a petition of kind '{kind}' names its commune")
            if commune not in communes:
                raise UnknownCommune(f"{commune} is not a commune of this metropolis")
        elif commune is not None:
            raise PetitionCommuneRequired(f"a petition of kind '{kind}' concerns the whole "
                                          "metropolis, not one commune")
        if claims is not None:
            refused = refusal_to_sign(rules, claims, communes, commune, self.clock().date())
            if refused is not None:
                raise NotEligibleToSign(refused[1], rule=refused[0])
        petition = Petition(
            metropolis_id=metropolis_id, charter_version=version, kind=kind,
            rules=rules.as_dict(), commune=commune, author_ref=author_ref,
            title_sealed=self._seal(metropolis_id, author_ref, "title", title),
            text_sealed=self._seal(metropolis_id, author_ref, "text", text),
        )
        if rules.sponsors <= 1:
            petition.sponsors_gathered(sponsors=1)
        return petition.id, self.save(petition)[-1].notification.id

    def sponsor_petition(self, petition_id: UUID, sponsor_ref: str,
                         claims: SignerClaims) -> int:
        """A citizen who could sign it sponsors a petition gathering its sponsors; the
        sponsor who completes the kind's number makes them gathered (same transaction)."""
        petition = self.get_petition(petition_id)
        petition.require(PetitionStage.DRAFTED)
        rules = petition.kind_rules
        self._check_eligible(petition, claims)
        if sponsor_ref in petition.sponsors:
            raise AlreadySponsored(f"'{sponsor_ref}' already sponsors petition {petition_id}")
        if getattr(petition, "gathered", False):
            raise WrongStage(f"petition {petition_id} has gathered its sponsors")
        petition.join(sponsor_ref)
        if len(petition.sponsors) >= rules.sponsors:
            petition.sponsors_gathered(sponsors=len(petition.sponsors))
        return self.save(petition)[-1].notification.id

    def leave_sponsorship(self, petition_id: UUID, sponsor_ref: str) -> int:
        """A sponsor (not the author) withdraws before the sponsors are gathered."""
        petition = self.get_petition(petition_id)
        petition.require(PetitionStage.DRAFTED)
        if sponsor_ref == petition.author_ref or sponsor_ref not in petition.sponsors:
            raise NotASponsor(f"'{sponsor_ref}' is not a co-sponsor of petition {petition_id}")
        if getattr(petition, "gathered", False):
            raise WrongStage(f"petition {petition_id} has gathered its sponsors")
        petition.leave(sponsor_ref)
        return self.save(petition)[-1].notification.id

    def withdraw_petition(self, petition_id: UUID, author_ref: str) -> int:
        """The author withdraws the petition, at any stage before its threshold is reached."""
        petition = self.get_petition(petition_id)
        if petition.author_ref != author_ref:
            raise NotTheAuthor(f"only the author may withdraw petition {petition_id}")
        if petition.threshold_position is not None:
            raise ThresholdAlreadyReached(f"petition {petition_id} has reached its threshold")
        petition.require(PetitionStage.DRAFTED, PetitionStage.ADMISSIBILITY,
                         PetitionStage.COLLECTING)
        petition.withdraw(author_ref)
        return self.save(petition)[-1].notification.id

    def lapse_petition(self, petition_id: UUID, at: datetime) -> str:
        """At the sponsor period's end without enough sponsors: closed `lapsed`
        (idempotent; returns the outcome recorded)."""
        petition = self.get_petition(petition_id)
        if petition.stage == PetitionStage.DRAFTED and not getattr(petition, "gathered", False):
            petition.close(outcome="lapsed", count=0, at=at)
            self.save(petition)
        return petition.outcome or ""

    # -- admissibility -----------------------------------------------------------------

    def open_petition_admissibility(self, petition_id: UUID, at: datetime) -> datetime:
        """Open the clerk's review (idempotent); returns its deadline."""
        petition = self.get_petition(petition_id)
        if petition.stage == PetitionStage.DRAFTED:
            if not getattr(petition, "gathered", False):
                raise WrongStage(f"petition {petition_id} has not gathered its sponsors")
            closes_at = at + timedelta(seconds=petition.kind_rules.admissibility_seconds)
            petition.open_admissibility(at=at, closes_at=closes_at)
            self.save(petition)
        if petition.admissibility_closes_at is None:
            raise WrongStage(f"petition {petition_id} is in stage '{petition.stage}'")
        return petition.admissibility_closes_at

    def rule_petition_admissibility(self, petition_id: UUID, clerk_ref: str, admissible: bool,
                                    competence: str = "", reason: str = "") -> int:
        """A clerk rules during the review: admissible within one of the metropolis'
        competences, or inadmissible with reasons."""
        petition = self.get_petition(petition_id)
        petition.require(PetitionStage.ADMISSIBILITY)
        if getattr(petition, "admissible", None) is not None:
            raise WrongStage(f"petition {petition_id} has been ruled on")
        competences = self.get_charter(petition.metropolis_id).rules(
            petition.charter_version).competences
        if admissible and competences and competence not in competences:
            raise NotACompetence(f"'{competence}' is not a competence of the metropolis: "
                                 f"{', '.join(competences)}")
        if not admissible and not reason.strip():
            raise ReasonRequired("an inadmissibility ruling gives its reasons")
        petition.rule_admissibility(admissible=admissible, clerk_ref=clerk_ref,
                                    competence=competence or None, reason=reason,
                                    cause="clerk_ruling")
        if not admissible:
            petition.close(outcome="inadmissible", count=0, at=self.clock())
        return self.save(petition)[-1].notification.id

    def conclude_petition_admissibility(self, petition_id: UUID, at: datetime) -> bool:
        """At the review's deadline: admissible by the clerk's silence (idempotent);
        returns whether the petition is admissible."""
        petition = self.get_petition(petition_id)
        if petition.stage == PetitionStage.ADMISSIBILITY and getattr(
                petition, "admissible", None) is None:
            petition.rule_admissibility(admissible=True, clerk_ref=None, competence=None,
                                        reason="", cause="deadline")
            self.save(petition)
        return bool(getattr(petition, "admissible", False))

    def refer_petition(self, petition_id: UUID, author_ref: str, text: str) -> int:
        """The author refers the petition (e.g. its inadmissibility) to the guarantor."""
        petition = self.get_petition(petition_id)
        if petition.author_ref != author_ref:
            raise NotTheAuthor(f"only the author may refer petition {petition_id}")
        petition.refer(citizen_ref=author_ref, text_sealed=self._seal(
            petition.metropolis_id, author_ref, "referral", text))
        return self.save(petition)[-1].notification.id

    # -- the collection ----------------------------------------------------------------

    def record_electorate(self, metropolis_id: UUID, clerk_ref: str, figures: dict[str, int],
                          source: str) -> int:
        """A clerk records the registered electors per commune from a registry extract."""
        communes = self._member_communes(metropolis_id)
        unknown = sorted(set(figures) - set(communes))
        if unknown:
            raise UnknownCommune(f"not communes of this metropolis: {', '.join(unknown)}")
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in figures.values()):
            raise ValueError("electors are counted in whole numbers")
        try:
            electorate = self.repository.get(Electorate.create_id(metropolis_id))
            electorate.update(figures=figures, source=source, clerk_ref=clerk_ref)
        except AggregateNotFoundError:
            electorate = Electorate(metropolis_id=metropolis_id, figures=figures,
                                    source=source, clerk_ref=clerk_ref)
        return self.save(electorate)[-1].notification.id

    def _figure(self, petition: Petition, rules: PetitionKind) -> tuple[int, str]:
        """The basis' figure for the petition's scope and where it comes from."""
        scope = [petition.commune] if rules.scope == "commune" else None
        if rules.basis == "absolute":
            return 0, "absolute"
        if rules.basis == "population":
            communes = self.get_metropolis(petition.metropolis_id).communes
            return (sum(int(c.get("population", 0)) for c in communes
                        if scope is None or c["code"] in scope),
                    "metropolis.founded.population")
        try:
            electorate = self.repository.get(Electorate.create_id(petition.metropolis_id))
        except AggregateNotFoundError:
            raise NoElectorate("no electors recorded for this metropolis yet") from None
        return (sum(n for code, n in electorate.figures.items()
                    if scope is None or code in scope), f"electorate:{electorate.source}")

    def open_collection(self, petition_id: UUID, at: datetime) -> CollectionOpenedResult:
        """Open the signature period and fix the threshold in signatures (idempotent)."""
        petition = self.get_petition(petition_id)
        if petition.stage == PetitionStage.ADMISSIBILITY and getattr(petition, "admissible",
                                                                      False):
            rules = petition.kind_rules
            figure, source = self._figure(petition, rules)
            petition.open_collection(
                at=at, closes_at=at + timedelta(seconds=rules.signature_seconds),
                threshold=rules.threshold(figure), figure=figure, figure_source=source)
            self.save(petition)
        if petition.closes_at is None or petition.threshold is None:
            raise WrongStage(f"petition {petition_id} is in stage '{petition.stage}'")
        return CollectionOpenedResult(petition.closes_at, petition.threshold,
                                      self._position_of(petition, Petition.CollectionOpened))

    def _check_eligible(self, petition: Petition, claims: SignerClaims,
                        signing: _Signing | None = None, now: datetime | None = None) -> None:
        """`signing`: the petition's rules and communes when already read (the fast path)."""
        rules = signing.rules if signing else petition.kind_rules
        communes = (signing.communes if signing
                    else self._member_communes(petition.metropolis_id))
        refused = refusal_to_sign(rules, claims, communes, petition.commune,
                                  (now or self.clock()).date())
        if refused is not None:
            raise NotEligibleToSign(refused[1], rule=refused[0])

    def _check_signable(self, petition: Petition, now: datetime | None = None) -> None:
        if not petition.is_collecting(now or self.clock()):
            raise CollectionNotOpen(f"petition {petition.id} is not collecting signatures")

    def _allowance_id(self, petition: Petition, signer_ref: str) -> UUID | None:
        rules = petition.kind_rules
        if not rules.signer_limit:
            return None
        return SigningAllowance.create_id(
            petition.metropolis_id, petition.kind, petition.commune or "metropolis",
            limit_period(rules, self.clock()), signer_ref)

    def _new_allowance(self, petition: Petition, rules: PetitionKind, signer_ref: str,
                       now: datetime) -> SigningAllowance:
        return SigningAllowance(
            metropolis_id=petition.metropolis_id, kind=petition.kind,
            authority=petition.commune or "metropolis",
            period=limit_period(rules, now), signer_ref=signer_ref,
            petition_id=petition.id)

    def signature_act(self, petition_id: UUID, signer_ref: str, claims: SignerClaims,
                      channel: str = ONLINE, batch_id: UUID | None = None) -> SignatureAct:
        """The act of signing for the group-commit writer: the fast path builds a first
        signature (and the first use of the period's allowance when the kind limits it)."""

        def prepare() -> list[Aggregate]:
            now = self.clock()
            signing = self._cached_petition(petition_id, now)
            petition, rules = signing.petition, signing.rules
            self._check_signable(petition, now)
            self._check_eligible(petition, claims, signing, now)
            signature = Signature(
                petition_id=petition_id, signer_ref=signer_ref, commune=claims.commune,
                capacity="elector" if claims.elector else "resident", channel=channel,
                batch_id=batch_id)
            made: list[Aggregate] = [signature]
            if rules.signer_limit:
                made.append(self._new_allowance(petition, rules, signer_ref, now))
            return made

        return SignatureAct(prepare, lambda: self.sign_petition(
            petition_id, signer_ref, claims, channel, batch_id))

    def sign_petition(self, petition_id: UUID, signer_ref: str, claims: SignerClaims,
                      channel: str = ONLINE, batch_id: UUID | None = None) -> int:
        """A person signs a petition collecting signatures (once; again only after a
        withdrawal), within the kind's per-signer limit. Returns the log position."""
        petition = self.get_petition(petition_id)
        self._check_signable(petition)
        self._check_eligible(petition, claims)
        capacity = "elector" if claims.elector else "resident"
        try:
            signature = self.repository.get(signature_id(petition_id, signer_ref))
        except AggregateNotFoundError:
            signature = None
        if signature is not None and signature.standing:
            raise SignatureAlreadyGiven(f"this person has already signed petition {petition_id}")
        if signature is None:
            signature = Signature(petition_id=petition_id, signer_ref=signer_ref,
                                  commune=claims.commune, capacity=capacity, channel=channel,
                                  batch_id=batch_id)
        else:
            signature.renew(commune=claims.commune, capacity=capacity, channel=channel,
                            batch_id=batch_id)
        made: list[Aggregate] = [signature]
        allowance_id = self._allowance_id(petition, signer_ref)
        if allowance_id is not None:
            try:
                allowance = self.repository.get(allowance_id)
            except AggregateNotFoundError:
                allowance = self._new_allowance(petition, petition.kind_rules, signer_ref,
                                                self.clock())
            else:
                limit = petition.kind_rules.signer_limit
                if len(allowance.petitions) >= limit:
                    raise SignerLimitReached(
                        f"a signer signs at most {limit} petition(s) of kind "
                        f"'{petition.kind}' per {petition.kind_rules.signer_limit_period}")
                allowance.use(petition_id)
            made.append(allowance)
        try:
            recordings = self.save(*made)
        except IntegrityError:
            raise SignatureAlreadyGiven(
                f"this person has already signed petition {petition_id}") from None
        return recordings[0].notification.id

    def withdraw_signature(self, petition_id: UUID, signer_ref: str) -> int:
        """A signer withdraws a signature while collecting, before the threshold is
        recorded; the period's allowance is given back."""
        petition = self.get_petition(petition_id)
        if petition.threshold_position is not None:
            raise ThresholdAlreadyReached(f"petition {petition_id} has reached its threshold")
        self._check_signable(petition)
        try:
            signature = self.repository.get(signature_id(petition_id, signer_ref))
        except AggregateNotFoundError:
            signature = None
        if signature is None or not signature.standing:
            raise NoSignature(f"this person has no signature on petition {petition_id}")
        signature.withdraw()
        made: list[Aggregate] = [signature]
        allowance_id = self._allowance_id(petition, signer_ref)
        if allowance_id is not None:
            try:
                allowance = self.repository.get(allowance_id)
                if petition_id in allowance.petitions:
                    allowance.release(petition_id)
                    made.append(allowance)
            except AggregateNotFoundError:
                pass
        return self.save(*made)[0].notification.id

    def enter_paper_batch(self, petition_id: UUID, clerk_ref: str, sheets: int,
                          provenance: str, digest: str,
                          signers: list[tuple[str, SignerClaims]]) -> tuple[UUID, list[int],
                                                                           list[dict[str, Any]]]:
        """A clerk enters a batch of paper signatures, counted in the same total: the batch
        (its provenance and the scans' SHA-256) then each signature naming it. A signer who
        may not sign, or already signed, is refused alone. Returns the batch id, the
        positions recorded and the refusals (index, rule, message)."""
        petition = self.get_petition(petition_id)
        self._check_signable(petition)
        batch = PaperBatch(petition_id=petition_id, clerk_ref=clerk_ref, sheets=sheets,
                           provenance=provenance, digest=digest)
        self.save(batch)
        recorded, refused = [], []
        for index, (signer_ref, claims) in enumerate(signers):
            try:
                recorded.append(self.sign_petition(petition_id, signer_ref, claims, PAPER,
                                                   batch.id))
            except (NotEligibleToSign, SignatureAlreadyGiven, SignerLimitReached,
                    CollectionNotOpen) as e:
                refused.append({"index": index, "rule": e.rule, "message": e.message})
        return batch.id, recorded, refused

    # -- the count, the threshold, the obligation --------------------------------------

    def count_petition(self, petition_id: UUID, upto: int | None = None) -> SignatureCount:
        """Recount a petition's signatures from the log (the rule the verifier applies):
        every signature event from the collection's opening up to `upto` (default: the
        close, or the log's end)."""
        petition = self.get_petition(petition_id)
        if petition.threshold is None:
            raise WrongStage(f"petition {petition_id} has not opened its collection")
        opened = self._position_of(petition, Petition.CollectionOpened)
        closed = (self._position_of(petition, Petition.CollectionClosed)
                  if petition.collection_closed else None)
        tally = SignatureCount(threshold=petition.threshold, opened_at=opened,
                               closed_at=closed)
        last = upto if upto is not None else closed
        start = opened + 1
        while True:
            page = self.recorder.select_notifications(
                start=start, limit=1000, stop=last, topics=SIGNATURE_TOPICS)
            if not page:
                break
            for notification in page:
                if last is not None and notification.id > last:
                    break
                apply_signature_event(tally, notification.id,
                                      self.mapper.to_domain_event(notification), petition_id)
            start = page[-1].id + 1
        return tally

    def record_threshold(self, petition_id: UUID, position: int, count: int,
                         at: datetime) -> datetime:
        """The relay saw the signature at `position` bring the count to the threshold:
        record it and open the kind's obligation with its deadline (idempotent: returns
        the deadline recorded)."""
        petition = self.get_petition(petition_id)
        if petition.threshold_position is None:
            petition.require(PetitionStage.COLLECTING)
            rules = petition.kind_rules
            petition.reach_threshold(position=position, count=count, at=at)
            petition.open_obligation(obligation=rules.obligation, at=at,
                                     due_at=obligation_due(rules, at))
            self.save(petition)
        assert petition.due_at is not None
        return petition.due_at

    def close_collection(self, petition_id: UUID, at: datetime) -> CollectionClosedResult:
        """At the period's end: close the collection (its position is the cut-off), recount
        from the log, and record the threshold if the recount finds it crossed and the
        relay's report has not arrived (idempotent)."""
        petition = self.get_petition(petition_id)
        if petition.stage not in (PetitionStage.COLLECTING, PetitionStage.OBLIGATION):
            raise WrongStage(f"petition {petition_id} is in stage '{petition.stage}'")
        if not petition.collection_closed:
            petition.close_collection(at=at)
            self.save(petition)
        tally = self.count_petition(petition_id)
        if tally.crossed_at is not None and petition.threshold_position is None:
            self.record_threshold(petition_id, tally.crossed_at, tally.threshold, at)
        return CollectionClosedResult(self._position_of(petition, Petition.CollectionClosed),
                                      tally.count, tally.crossed_at)

    def _obligation(self, petition_id: UUID, obligation: str) -> Petition:
        petition = self.get_petition(petition_id)
        if petition.stage != PetitionStage.OBLIGATION or petition.fulfilled:
            raise NoObligationOpen(f"petition {petition_id} has no obligation awaiting")
        if petition.obligation != obligation:
            raise WrongObligation(f"petition {petition_id} obliges the council to "
                                  f"'{petition.obligation}', not '{obligation}'")
        return petition

    def answer_petition(self, petition_id: UUID, clerk_ref: str, text: str) -> int:
        """A clerk records the council's reasoned answer (late after the deadline)."""
        petition = self._obligation(petition_id, "answer")
        now = self.clock()
        assert petition.due_at is not None
        petition.answer(clerk_ref=clerk_ref, text=text, at=now, late=now > petition.due_at)
        return self.save(petition)[-1].notification.id

    def report_petition_consultation(self, petition_id: UUID, guarantor_ref: str,
                                     text: str) -> int:
        """The guarantor records the report of the public consultation the petition won."""
        petition = self._obligation(petition_id, "consultation")
        now = self.clock()
        assert petition.due_at is not None
        petition.report_consultation(guarantor_ref=guarantor_ref, text=text, at=now,
                                     late=now > petition.due_at)
        return self.save(petition)[-1].notification.id

    def put_petition_on_agenda(self, petition_id: UUID, at: datetime) -> UUID:
        """The obligation `agenda`: submit a proposal in the signers' name (its author
        `petition:<id>`, its title and text the petition's, still sealed under the author's
        key) — idempotent: returns the proposal already submitted."""
        petition = self.get_petition(petition_id)
        if getattr(petition, "agenda_proposal_id", None) is not None:
            return petition.agenda_proposal_id
        petition = self._obligation(petition_id, "agenda")
        proposal = self._new_proposal(
            petition.metropolis_id, f"{PETITION_AUTHOR_PREFIX}{petition_id}",
            lambda: (petition.title_sealed, petition.text_sealed),
            [petition.commune] if petition.commune else [], None, "ordinary")
        petition.put_on_agenda(proposal_id=proposal.id, at=at)
        self.save(proposal, petition)
        return proposal.id

    def record_breach(self, petition_id: UUID, at: datetime) -> bool:
        """At the deadline with no answer: the breach (idempotent); True if breached."""
        petition = self.get_petition(petition_id)
        if petition.stage == PetitionStage.OBLIGATION and not petition.fulfilled:
            if not petition.breached:
                assert petition.due_at is not None
                petition.breach(due_at=petition.due_at, at=at)
                self.save(petition)
            return True
        return False

    def close_petition(self, petition_id: UUID, at: datetime) -> str:
        """Close the petition once its course is run (idempotent): `answered` when the
        obligation was fulfilled, `failed` when the period ended below the threshold."""
        petition = self.get_petition(petition_id)
        if getattr(petition, "closed", False):
            return petition.outcome or ""
        if petition.stage == PetitionStage.OBLIGATION and petition.fulfilled:
            outcome = "answered"
        elif petition.stage == PetitionStage.COLLECTING and petition.collection_closed:
            outcome = "failed"
        elif petition.stage == PetitionStage.CLOSED:
            outcome = petition.outcome or "closed"
        else:
            raise WrongStage(f"petition {petition_id} is in stage '{petition.stage}': its "
                             "course is not run")
        count = self.count_petition(petition_id).count if petition.threshold else 0
        petition.close(outcome=outcome, count=count, at=at)
        self.save(petition)
        return outcome

    def _position_of(self, petition: Petition, event_class: type) -> int:
        for stored in reversed(list(self.events.get(petition.id))):
            if isinstance(stored, event_class):
                return self.position_of(petition.id, stored.originator_version)
        raise WrongStage(f"petition {petition.id} has no {event_class.__name__} event")


def apply_signature_event(tally: SignatureCount, position: int, event: Any,
                          petition_id: UUID) -> None:
    """Apply one stored signature event (any petition's) to one petition's running count."""
    if getattr(event, "petition_id", None) != petition_id:
        return
    if isinstance(event, (Signature.Signed, Signature.Renewed)):
        tally.signed(position, event.signer_ref, event.commune)
    elif isinstance(event, Signature.Withdrawn):
        tally.withdrawn(position, event.signer_ref, event.commune)
