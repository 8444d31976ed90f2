"""The build plan both builders share: a rerun resumes, a different build is refused only where it
would mix with finished shards, and a plan alone never locks the corrected command out."""

import json

import pytest

from data_prep.plan import PLAN, check_plan
from nsynth_synth.errors import DataError


def shards_of(plan):
    return plan["shards"]


def test_a_plan_alone_protects_nothing_and_a_finished_shard_does(tmp_path):
    check_plan(str(tmp_path), {"shards": ["a.tfrecord"], "styles": [1]}, shards_of)
    check_plan(str(tmp_path), {"shards": ["a.tfrecord"], "styles": [1]}, shards_of)  # the same build resumes
    check_plan(str(tmp_path), {"shards": ["b.tfrecord"], "styles": [42]}, shards_of)  # nothing finished yet
    assert json.loads((tmp_path / PLAN).read_text())["styles"] == [42]
    (tmp_path / "b.tfrecord").write_bytes(b"")
    with pytest.raises(DataError, match=f"{tmp_path} holds a different NSynth build"):
        check_plan(str(tmp_path), {"shards": ["c.tfrecord"], "styles": [80]}, shards_of, what="NSynth build")
    assert json.loads((tmp_path / PLAN).read_text())["styles"] == [42]
