import os

import pytest

from nsynth_synth.fileio import atomic_output, write_json


def test_outputs_get_the_usual_file_mode(tmp_path):
    mask = os.umask(0o022)
    try:
        write_json(str(tmp_path / "a.json"), {"x": 1})
    finally:
        os.umask(mask)
    assert os.stat(tmp_path / "a.json").st_mode & 0o777 == 0o644


def test_a_failed_output_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_output(str(tmp_path / "b.txt")) as tmp:
        open(tmp, "w").write("half")
        raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []
