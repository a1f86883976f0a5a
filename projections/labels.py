"""French wording of the public timeline: what citizens read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from domain.deliberation.stages import Stage

STAGE_FR = {
    "drafted": "brouillon",  # a draft's stage: not a proposal's, so not a Stage
    Stage.SUBMITTED: "déposée",
    Stage.ADMISSIBILITY: "examen de recevabilité",
    Stage.ADMISSIBLE: "recevable",
    Stage.INADMISSIBLE: "irrecevable",
    Stage.CONSULTATION: "consultation publique",
    Stage.DELIBERATION: "délibération",
    Stage.DELIBERATED: "délibération close",
    Stage.VOTE: "vote du conseil",
    Stage.COUNTING: "dépouillement",
    Stage.VETO_WINDOW: "délai de veto",
    Stage.DECIDED: "décidée",
    Stage.WITHDRAWN: "retirée",
    Stage.IMPLEMENTATION: "mise en œuvre",
    Stage.EVALUATION: "évaluation citoyenne",
    Stage.CLOSED: "close",
}
MAJORITY_FR = {"simple": "simple", "absolute": "absolue",
               "two_thirds_of_members": "des deux tiers des membres"}
CHOICE_FR = {"for": "pour", "against": "contre", "abstain": "abstention"}
OUTCOME_MASC_FR = {"adopted": "adopté", "rejected": "rejeté"}  # un amendement
OUTCOME_FR = {"adopted": "adoptée", "rejected": "rejetée", "withdrawn": "retirée",
              "inadmissible": "irrecevable"}
CAUSE_FR = {
    "deadline_reached": "échéance atteinte",
    "quorum_not_met": "quorum non atteint",
    "tie": "égalité des voix",
    "majority_carried": "majorité atteinte",
    "majority_not_reached": "majorité non atteinte",
    "author_withdrew": "retrait par l'auteur·rice",
    "no_veto": "aucun veto",
    "veto_sustained": "veto maintenu",
    "override_carried": "veto levé par le conseil",
    "schedule_reached": "date prévue par la charte",
    "submitted": "dépôt de la proposition",
    "admissible": "proposition recevable",
    "guarantor_required": "exigée par le garant",
    "adopted": "adoption par le conseil",
    "final_adoption": "adoption définitive",
}
ROLE_FR = {
    "citizen": "citoyen·ne",
    "councillor": "conseiller·ère",
    "mayor": "maire",
    "clerk": "greffe",
    "guarantor": "garant",
    "registre": "Registre (échéance de la charte)",
}


def date_fr(at: datetime) -> str:
    return at.strftime("%d/%m/%Y à %H:%M:%S UTC")


# -- the participatory budget ----------------------------------------------------------------

BUDGET_STAGE_FR = {
    "submission": "dépôt des projets",
    "review": "examen de l'éligibilité",
    "voting": "vote",
    "results": "résultats publiés",
    "closed": "clos",
}
BALLOT_FR = {"approval": "vote par approbation", "knapsack": "vote dans la limite du budget",
             "cumulative": "vote par points"}
MILESTONE_FR = {"planned": "programmé", "started": "commencé", "delivered": "livré",
                "abandoned": "abandonné"}
BUDGET_OUTCOME_FR = {"completed": "cycle achevé", "cancelled": "cycle annulé"}
DISTRICT_METROPOLIS_FR = "toute la métropole"
PROJECT_TITLE = "⟦title⟧"  # the project's sealed title, opened when the label is read


def amount_fr(n: int) -> str:
    """1500000 → « 1 500 000 »."""
    return f"{n:,}".replace(",", " ")


def district_fr(district: str) -> str:
    return DISTRICT_METROPOLIS_FR if district == "metropolis" else f"commune {district}"


def _when(at: Any) -> str:
    return date_fr(at if isinstance(at, datetime) else datetime.fromisoformat(str(at)))


def _opened(f: Mapping[str, Any]) -> str:
    rules = f["rules"]
    budgets = ", ".join(f"{district_fr(d)} : {amount_fr(b)}" for d, b in f["districts"].items())
    return (f"Règles du budget publiées : {BALLOT_FR.get(rules.get('ballot'), rules.get('ballot'))}"
            f", règle de répartition {rules.get('rule')} ; budgets — {budgets} ; dépôt des "
            f"projets jusqu'au {_when(f['submission_closes_at'])}")


def _ruled(f: Mapping[str, Any]) -> str:
    if f["eligible"]:
        return ("Projet « ⟦title⟧ » éligible"
                + (" — sans décision du greffe à l'échéance" if f["cause"] == "deadline"
                   else ""))
    return f"Projet « ⟦title⟧ » inéligible : {f['reason']}"


def _on_ballot(f: Mapping[str, Any]) -> str:
    count = sum(len(projects) for projects in f["ballots"].values())
    return f"Vote ouvert jusqu'au {_when(f['closes_at'])} : {count} projet(s) soumis au vote"


BUDGET_LABELS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "BudgetCycle.Opened": _opened,
    "BudgetCycle.ProjectAdded": lambda f: f"Projet ajouté au cycle ({district_fr(f['district'])})",
    "BudgetCycle.ReviewOpened": lambda f: (
        f"Dépôt des projets clos ; examen de l'éligibilité par le greffe jusqu'au "
        f"{_when(f['closes_at'])}"),
    "BudgetCycle.VotingOpened": _on_ballot,
    "BudgetCycle.VotingClosed": lambda f: "Vote clos",
    "BudgetCycle.ResultsPublished": lambda f: "Résultats publiés : " + " ; ".join(
        f"{district_fr(d)} — {len(r['selected'])} projet(s) retenu(s) pour "
        f"{amount_fr(r['cost'])} sur {amount_fr(r['budget'])}, {r['ballots']} bulletin(s)"
        for d, r in f["results"].items()),
    "BudgetCycle.Closed": lambda f: (
        f"Cycle clos : {BUDGET_OUTCOME_FR.get(f['outcome'], f['outcome'])}"
        + (f" ({f['reason']})" if f.get("reason") else "")),
    "BudgetProject.Submitted": lambda f: (
        f"Projet déposé : « {PROJECT_TITLE} » ({district_fr(f['district'])}, coût "
        f"{amount_fr(f['cost'])})"),
    "BudgetProject.Ruled": _ruled,
    "BudgetProject.Appealed": lambda f: (
        f"Recours de l'auteur·rice devant le garant contre l'inéligibilité du projet "
        f"« {PROJECT_TITLE} »"),
    "BudgetProject.AppealDecided": lambda f: (
        f"Recours {'accueilli' if f['upheld'] else 'rejeté'} par le garant pour le projet "
        f"« {PROJECT_TITLE} » : {f['reason']}"),
    "BudgetProject.MilestoneRecorded": lambda f: (
        f"Mise en œuvre du projet « {PROJECT_TITLE} » : "
        f"{MILESTONE_FR.get(f['status'], f['status'])}"
        + (f" — {f['note']}" if f.get("note") else "")),
    "BudgetBallot.Cast": lambda f: f"Bulletin déposé ({district_fr(f['district'])})",
    "BudgetBallot.Replaced": lambda f: f"Bulletin remplacé ({district_fr(f['district'])})",
}


def budget_label(event_name: str, fields: Mapping[str, Any]) -> str:
    """The French label of a budget event (`BudgetCycle.Opened`…) from its fields; a project's
    title stands as `PROJECT_TITLE`, to be replaced by the opened title."""
    return BUDGET_LABELS[event_name](fields)


# -- citizens' conventions drawn by lot ------------------------------------------------------

CONVENTION_STAGE_FR = {
    "registration": "inscription des volontaires",
    "committed": "vivier engagé, graine attendue",
    "revealed": "graine révélée",
    "acceptance": "réponses des membres tirés au sort",
    "sitting": "en séance",
    "ended": "close",
}
CONVENTION_KIND_FR = {"convention": "convention citoyenne",
                      "bureau": "sièges citoyens du bureau collégial",
                      "evaluation": "panel d'évaluation"}
METHOD_FR = {"leximin": "leximin", "maximin": "maximin", "nash": "Nash",
             "legacy": "méthode gloutonne historique"}
RANDOMNESS_FR = {"guarantor_secret": "secret engagé par le garant", "dice": "dés publics",
                 "beacon": "balise publique d'aléa"}
CONVENTION_OUTCOME_FR = {"completed": "Fin du mandat", "failed": "Convention close : vivier "
                         "insuffisant", "cancelled": "Convention annulée"}
BOUND_FR = {"min": "minimum", "max": "maximum"}


def relaxation_fr(relaxation: list[Mapping[str, Any]]) -> str:
    """The smallest relaxation of the quotas, in French: « minimum de gender = f de 2 à 1 »."""
    return " ; ".join(
        f"{BOUND_FR.get(r.get('bound'), r.get('bound'))} de {r.get('feature')} = "
        f"{r.get('value')} de {r.get('from')} à {r.get('to')}" for r in relaxation)


def _convention_opened(f: Mapping[str, Any]) -> str:
    rules = f["rules"]
    kind = CONVENTION_KIND_FR.get(f["kind"], f["kind"])
    return (f"Convention ouverte ({kind}) : « {f['title']} » — {rules['size']} membres tirés "
            f"au sort ({METHOD_FR.get(rules['method'], rules['method'])}, graine : "
            f"{RANDOMNESS_FR.get(rules['randomness'], rules['randomness'])}) ; inscription "
            f"des volontaires jusqu'au {_when(f['registration_closes_at'])}")


SORTITION_RULE_FR = {
    "sortition.pool_too_small": "trop peu de volontaires pour les sièges à pourvoir",
    "sortition.infeasible_quotas": "aucun panel tiré de ce vivier ne respecte les quotas",
    "sortition.unknown_feature": "un volontaire ne donne pas les catégories des quotas",
    "sortition.unknown_value": "un volontaire donne une valeur qu'aucun quota ne nomme",
    "sortition.legacy_failed": "la méthode gloutonne historique n'a trouvé aucun panel",
}


def _pool_failed(f: Mapping[str, Any]) -> str:
    why = SORTITION_RULE_FR.get(f["rule"], f["message"])
    label = f"Vivier clos sans panel possible ({f['pool_size']} volontaires) : {why}"
    if f.get("relaxation"):
        label += f" — assouplissement le plus petit : {relaxation_fr(f['relaxation'])}"
    return label


def _seat_declined(f: Mapping[str, Any]) -> str:
    if f["replacement"] is None:
        return f"Siège refusé — aucun remplaçant ne convient (siège de {f['member']})"
    return f"Siège refusé — remplacé par {f['replacement']} (siège de {f['member']})"


def _convention_ended(f: Mapping[str, Any]) -> str:
    label = CONVENTION_OUTCOME_FR.get(f["outcome"], f["outcome"])
    return label + (f" : {f['reason']}" if f["outcome"] == "cancelled" and f.get("reason")
                    else "")


CONVENTION_LABELS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "Convention.Opened": _convention_opened,
    "Convention.InvitationsDrawn": lambda f: (
        f"Tirage des invitations : {len(f['invited'])} invitation(s) tirée(s) parmi "
        f"{f['registry_size']} entrées du registre (graine publique « {f['seed']} »)"),
    "Convention.SeedCommitted": lambda f: (
        f"Engagement du garant : empreinte SHA-256 de son secret {f['digest']}"),
    "Convention.PoolCommitted": lambda f: (
        f"Vivier clos et engagé : {len(f['pool'])} volontaire(s), "
        f"{len(f['distribution'].get('panels', []))} composition(s) de panel possibles ; "
        f"engagement {f['commitment']} ; graine attendue au plus tard le "
        f"{_when(f['reveal_by'])}"),
    "Convention.PoolFailed": _pool_failed,
    "Convention.SeedRevealed": lambda f: f"Graine révélée : {f['seed']}",
    "Convention.PanelDrawn": lambda f: (
        f"Panel tiré au sort : {len(f['panel'])} membre(s) ; réponses attendues jusqu'au "
        f"{_when(f['acceptance_closes_at'])}"),
    "Convention.SeatAccepted": lambda f: f"Siège accepté par {f['member']}",
    "Convention.SeatDeclined": _seat_declined,
    "Convention.SittingOpened": lambda f: (
        f"Installation : {len(f['members'])} membre(s) siègent jusqu'au "
        f"{_when(f['term_ends_at'])}"),
    "Convention.SessionHeld": lambda f: f"Séance {f['number']} : {f['summary']}",
    "Convention.ProposalSent": lambda f: "Proposition transmise au conseil",
    "Convention.Ended": _convention_ended,
}


def convention_label(event_name: str, fields: Mapping[str, Any]) -> str:
    """The French label of a convention event (`Convention.Opened`…) from its fields."""
    return CONVENTION_LABELS[event_name](fields)
