"""The build plan each builder keeps in its output folder (build.json): what the folder is being
built from. A rerun with the same plan resumes; a different plan is refused only when the folder
holds a finished shard of the old one. A plan alone (from a refused or killed start) protects
nothing, so it never locks the corrected command out.
"""

import json
import os

from nsynth_synth.errors import DataError
from nsynth_synth.fileio import write_json

PLAN = "build.json"


def check_plan(out_dir, plan, shards_of, what="build", differs="other sources, styles or settings"):
    """Write `plan` to OUT/build.json, or raise DataError when the folder holds a different build:
    another plan with a finished shard, its shard file names given by shards_of(that plan)."""
    path = os.path.join(out_dir, PLAN)
    if os.path.exists(path):
        with open(path) as f:
            existing = json.load(f)
        if existing == plan:
            return
        if any(os.path.exists(os.path.join(out_dir, shard)) for shard in shards_of(existing)):
            raise DataError(f"{out_dir} holds a different {what} ({PLAN} differs: {differs}); use a new --out "
                            "folder or delete this one")
    write_json(path, plan)
