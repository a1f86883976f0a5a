"""French wording of the public timeline: what citizens read."""

from __future__ import annotations

from datetime import datetime

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
