"""What each refusal means, in French, for the citizens, councillors and clerks who read it.

The domain's messages are precise but English (they name ids and positions for the logs); each
answer refusing a request also carries `explication`, the rule explained in French, found here
by its rule id. A test checks that every rule the domain or the API can name has one.
"""

from __future__ import annotations

RULE_FR: dict[str, str] = {
    # authentication and roles (API)
    "authentication_required": "Un jeton d'accès est requis pour cet acte.",
    "invalid_token": "Le jeton d'accès est invalide ou a expiré.",
    "role_required": "Votre rôle ne permet pas cet acte.",
    "territory_required": "Un veto est déposé pour une commune : le jeton doit porter son code.",
    # malformed requests (API)
    "invalid_request": "La requête est mal formée : les champs en cause sont indiqués ; rien "
                       "n'a été enregistré.",
    "body_too_large": "La requête est trop volumineuse ; rien n'a été enregistré.",
    "method_not_allowed": "Cette adresse n'accepte pas cette méthode.",
    "http_error": "La requête n'a pas pu être traitée ; rien n'a été enregistré.",
    # generic families
    "domain": "L'acte a été refusé ; rien n'a été enregistré.",
    "concurrent_change": "Un autre acte a modifié ce dossier au même instant ; rien n'a été "
                         "enregistré, réessayez.",
    "not_found": "L'élément demandé n'existe pas.",
    "not_permitted": "Vous n'avez pas le droit d'accomplir cet acte.",
    "rule_broken": "L'acte enfreint une règle de la charte ; rien n'a été enregistré.",
    # the service itself
    "database_unavailable": "Le registre ne joint pas sa base de données ; réessayez plus tard.",
    # things that do not exist
    "unknown_proposal": "Cette proposition n'existe pas.",
    "unknown_draft": "Ce brouillon n'existe pas.",
    "draft_closed": "Ce brouillon a déjà été déposé ou abandonné : il ne change plus.",
    "unknown_metropolis": "Cette métropole n'existe pas.",
    "unknown_commune": "Cette commune n'appartient pas à la métropole.",
    "unknown_amendment": "Cet amendement n'existe pas.",
    "unknown_seat_kind": "La charte ne prévoit pas ce type de siège au bureau.",
    "no_bureau": "La charte de la métropole ne prévoit pas de bureau collégial.",
    # the charter
    "no_charter_in_force": "La métropole n'a pas de charte en vigueur.",
    "invalid_charter": "Cette charte n'est pas valide.",
    "metropolis_already_founded": "Cette métropole est déjà enregistrée.",
    "decision_type.unknown": "La charte ne prévoit pas ce type de décision.",
    "decision_type.charter_amendment": "Un amendement de la charte est décidé à la majorité "
                                       "prévue pour les amendements de la charte.",
    # votes
    "not_a_council_member": "Seuls les membres du conseil siégeant peuvent accomplir cet acte.",
    "vote_not_open": "Le scrutin n'est pas encore ouvert.",
    "vote_after_close": "Le scrutin est clos.",
    "one_vote_per_member": "Chaque membre ne vote qu'une fois par scrutin.",
    # stages
    "wrong_stage": "La proposition ou la pétition n'est pas à l'étape qui permet cet acte.",
    "proposal_withdrawn": "La proposition a été retirée par son auteur·rice.",
    "withdrawal_too_late": "Une proposition ne peut plus être retirée une fois le vote ouvert.",
    "not_the_author": "Seul·e l'auteur·rice de la proposition ou de la pétition peut accomplir "
                      "cet acte.",
    "not_a_competence": "La proposition doit relever d'une compétence de la métropole.",
    "reason_required": "Cet acte doit être motivé.",
    "not_inadmissible": "Seule une proposition déclarée irrecevable peut être soumise au garant.",
    "consultation_not_open": "La proposition n'est pas en consultation publique.",
    "one_support_per_citizen": "Chaque citoyen·ne ne soutient une proposition qu'une fois.",
    "deliberation_not_open": "La proposition n'est pas en délibération.",
    "deliberation.held": "La délibération du conseil a déjà eu lieu : elle ne se tient qu'une "
                         "fois.",
    "deliberation.required": "La charte prévoit une délibération du conseil avant le vote.",
    "admissibility.review_required": "La charte exige l'examen de recevabilité avant la "
                                     "consultation publique.",
    # the veto
    "veto_outside_window": "Un veto ne peut être déposé que pendant le délai de veto.",
    "veto_already_filed": "Un veto a déjà été déposé sur cette proposition.",
    "veto.window_owed": "L'adoption n'est définitive qu'à la fin du délai de veto des maires : "
                        "la mise en œuvre attend.",
    "veto.window_held": "Le délai de veto a déjà eu lieu : il ne s'ouvre qu'une fois.",
    "veto.window_not_owed": "Aucune commune concernée n'a de droit de veto : pas de délai de "
                            "veto.",
    "not_mayor_of_commune": "Seul·e le ou la titulaire du droit de veto de la commune peut "
                            "déposer ce veto.",
    "commune_not_concerned": "La proposition ne concerne pas cette commune : pas de veto.",
    "veto.territory": "La charte n'accorde pas de droit de veto à cette commune.",
    # implementation and evaluation
    "not_in_implementation": "La proposition n'a pas été adoptée ou n'est pas en mise en œuvre.",
    "evaluation_not_open": "Aucune étape d'évaluation citoyenne n'est ouverte.",
    "evaluation.step_order": "Les étapes d'évaluation s'ouvrent dans l'ordre du calendrier, sans "
                             "en sauter.",
    "evaluation.steps_due": "Le processus n'est clos qu'après toutes les étapes d'évaluation "
                            "prévues.",
    "already_scored": "Chaque membre du panel n'évalue qu'une fois par étape.",
    "invalid_scores": "Chaque indicateur est noté de 0 à 10, au moins un indicateur.",
    "evaluation.panel": "Seuls les membres du panel d'évaluation désigné peuvent évaluer.",
    "evaluation.panel_invalid": "Un panel d'évaluation compte au moins un membre.",
    # the guarantor
    "guarantor.consultation_before_vote": "Le garant ne peut exiger une consultation qu'avant "
                                          "l'ouverture du vote.",
    "guarantor.consultation_already_required": "Une consultation exigée par le garant est déjà "
                                               "en attente.",
    "guarantor.consultation": "Le vote ne peut s'ouvrir avant la consultation publique exigée "
                              "par le garant.",
    "unknown_person": "Aucune donnée personnelle de cette personne dans cette métropole.",
    "erasure_target": "Désignez la personne par son identifiant ou par son pseudonyme.",
    # petitions (right of interpellation)
    "unknown_petition": "Cette pétition n'existe pas.",
    "petition.kind": "La charte en vigueur ne prévoit pas ce type de pétition.",
    "petition.scope": "Une pétition communale nomme sa commune ; une pétition métropolitaine "
                      "n'en nomme aucune.",
    "petition.signers": "Ce type de pétition est signé par les électeurs inscrits.",
    "petition.residence": "Seuls les habitants du territoire concerné peuvent signer cette "
                          "pétition.",
    "petition.min_age": "Vous n'avez pas l'âge requis pour signer cette pétition.",
    "petition.one_sponsorship": "Vous parrainez déjà cette pétition.",
    "petition.not_a_sponsor": "Vous n'êtes pas co-parrain de cette pétition.",
    "petition.period": "La pétition ne recueille pas de signatures en ce moment : la période "
                       "de signature n'est pas ouverte ou est close.",
    "petition.one_signature": "Vous avez déjà signé cette pétition : une seule signature par "
                              "personne.",
    "petition.no_signature": "Vous n'avez pas signé cette pétition.",
    "petition.threshold_reached": "Le seuil est atteint : la pétition et ses signatures ne "
                                  "peuvent plus être retirées.",
    "petition.signer_limit": "Vous avez déjà signé le nombre maximal de pétitions de ce type "
                             "pour cette période.",
    "petition.obligation": "Aucune obligation n'est en attente pour cette pétition.",
    "petition.obligation_kind": "Cet acte ne répond pas à l'obligation que ce type de pétition "
                                "impose au conseil.",
    "petition.electorate": "Le nombre d'électeurs inscrits n'a pas encore été enregistré par "
                           "le greffe.",
    # participatory budget
    "unknown_budget_cycle": "Ce budget participatif n'existe pas.",
    "unknown_budget_project": "Ce projet n'existe pas dans ce budget participatif.",
    "budget.rules": "Les règles de ce budget participatif ne sont pas valides ; rien n'a été "
                    "enregistré.",
    "budget.residence": "Seuls les habitants de la métropole peuvent participer à ce budget.",
    "budget.district": "Chacun vote pour les projets de la métropole et de sa propre commune.",
    "budget.min_age": "Vous n'avez pas l'âge requis pour participer à ce budget.",
    "budget.submission": "Le dépôt des projets n'est pas ouvert en ce moment.",
    "budget.project": "Ce projet ne peut pas être déposé : il doit relever d'une compétence de "
                      "la métropole et ne pas coûter plus que le budget de son territoire.",
    "budget.project.competence": "Ce projet ne relève d'aucune compétence de la métropole.",
    "budget.project.cost": "Le coût du projet dépasse le budget de son territoire.",
    "budget.project.district": "Ce territoire n'a pas de budget dans ce cycle.",
    "budget.projects_per_author": "Vous avez déjà déposé le nombre maximal de projets.",
    "budget.review": "L'examen de recevabilité des projets n'est pas en cours.",
    "budget.voting": "Le vote n'est pas ouvert en ce moment : il a lieu pendant la période "
                     "fixée par les règles du cycle.",
    "budget.ballot": "Ce bulletin n'est pas valide.",
    "budget.ballot.unknown_project": "Ce bulletin choisit un projet qui n'est pas soumis au "
                                     "vote de ce territoire.",
    "budget.ballot.duplicate": "Ce bulletin choisit deux fois le même projet.",
    "budget.ballot.approvals": "Ce bulletin ne choisit pas le nombre de projets requis.",
    "budget.ballot.points": "Ce bulletin ne répartit pas les points comme les règles le "
                            "prévoient.",
    "budget.ballot.over_budget": "Les projets choisis coûtent plus que le budget du territoire.",
    "budget.one_ballot": "Vous avez déjà voté : les règles de ce cycle ne permettent qu'un "
                         "bulletin par personne.",
    "budget.not_selected": "Ce projet n'a pas été retenu : il n'a pas de suivi de réalisation.",
    "budget.appeal": "Aucun recours n'est en attente pour ce projet.",
    "budget.no_results": "Les résultats de ce budget participatif ne sont pas encore publiés.",
    # citizens' conventions drawn by lot
    "unknown_convention": "Cette convention citoyenne n'existe pas.",
    "convention.kind": "La charte ne prévoit pas ce type de convention citoyenne.",
    "convention.rules": "Les règles de cette convention citoyenne ne sont pas valides ; rien "
                        "n'a été enregistré.",
    "convention.quotas": "Les quotas de cette convention ne peuvent pas être respectés par un "
                         "panel de sa taille, ou nomment une commune hors de la métropole.",
    "convention.invitations": "Les invitations ne peuvent pas être tirées : convention sans "
                              "invitations, déjà tirées, extrait du registre trop court ou "
                              "graine publique invalide.",
    "convention.distribution": "La distribution calculée pour le tirage n'est pas valide : "
                               "rien n'a été engagé.",
    "convention.pool_too_small": "Le vivier de volontaires est trop petit pour tirer le panel.",
    "convention.infeasible_quotas": "Aucun panel tiré de ce vivier ne respecte les quotas.",
    "convention.residence": "Seuls les habitants des communes de la métropole peuvent se porter "
                            "volontaires ; la commune est celle qu'atteste le fournisseur "
                            "d'identité.",
    "convention.min_age": "Vous n'avez pas l'âge requis pour vous porter volontaire.",
    "convention.category": "Les volontaires donnent une valeur, et une seule, pour chaque "
                           "catégorie des quotas.",
    "convention.category_value": "Cette valeur n'est pas l'une de celles que prévoient les "
                                 "quotas de la convention.",
    "convention.registration": "Les inscriptions des volontaires ne sont pas ouvertes en ce "
                               "moment.",
    "convention.one_registration": "Vous êtes déjà inscrit·e comme volontaire pour cette "
                                   "convention.",
    "convention.seed_before_commitment": "La graine du tirage ne peut être révélée qu'après "
                                         "l'engagement public du vivier et de la "
                                         "distribution.",
    "convention.seed": "Cette graine ne correspond pas à la source d'aléa fixée à l'avance "
                       "(le secret engagé par le garant, des dés publics, une balise publique).",
    "convention.seed_commitment": "Le garant a déjà engagé le secret de ce tirage.",
    "convention.reveal": "La graine du tirage n'a pas été révélée dans le délai prévu.",
    "convention.not_a_member": "Vous n'êtes pas volontaire, ou vous ne siégez pas, dans cette "
                               "convention.",
    "convention.sessions": "Cette séance est déjà consignée, ou son numéro n'est pas valide.",
    "sortition.pool_too_small": "Le vivier de volontaires est trop petit pour tirer le panel.",
    "sortition.infeasible_quotas": "Aucun panel tiré de ce vivier ne respecte les quotas.",
    # the collegial bureau
    "no_free_seat": "Aucun siège de ce type n'est libre au bureau collégial.",
    # the verifiable ledger
    "no_checkpoint": "Aucun point de contrôle n'a encore été émis.",
    "empty_log": "Le registre ne contient encore aucun événement.",
    "no_witness_key": "Aucune clé publique de témoin n'est configurée.",
    "not_in_log": "Cet événement n'est pas dans le journal de Merkle.",
    "bad_size": "Taille de journal invalide pour cette preuve.",
    "unknown_checkpoint": "Aucun point de contrôle n'a cette taille.",
    "malformed_cosignature": "La cosignature est mal formée.",
    "invalid_cosignature": "La cosignature n'est pas valide pour ce point de contrôle.",
}


def explain(rule: str) -> str:
    """The rule explained in French (the generic sentence for a rule not listed)."""
    return RULE_FR.get(rule, RULE_FR["domain"])
