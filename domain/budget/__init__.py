"""The participatory budget: cycles, the projects citizens submit, the ballots they cast."""
