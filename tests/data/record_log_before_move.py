# Run from a checkout of the commit named in the output (the code before the package move).
"""Records a small log with the code before the domain's package move (one event of each kind
the projections read: metropolis, charter, proposal stages, support, comment, vote, decision)."""
import base64, json, sys
from datetime import timedelta
sys.path.insert(0, ".")
from tests.unit.helpers import ManualClock, found, in_memory_app
clock = ManualClock(); app = in_memory_app(clock)
mid = found(app, 3, veto_window_seconds=0)
pid, _ = app.submit_proposal(mid, "citoyenne-1", "Titre", "Résumé")
app.open_consultation(pid, clock())
app.support(pid, "citoyen-2")
app.comment(pid, "citoyen-2", "Un commentaire")
clock.advance(days=31)
opened = app.open_vote(pid, clock())
for m in ("m1", "m2", "m3"):
    app.cast_vote(pid, m, "for")
clock.advance(days=15)
cutoff = app.close_ballot(pid, clock())
app.decide(pid, opened.position, cutoff)
out = []
for n in app.recorder.select_notifications(start=1, limit=1000):
    out.append({"id": n.id, "originator_id": str(n.originator_id), "originator_version": n.originator_version,
                "topic": n.topic, "state": base64.b64encode(n.state).decode()})
json.dump({"recorded_by": "main before the package move (commit %s)" % sys.argv[1], "events": out}, sys.stdout, indent=1)
