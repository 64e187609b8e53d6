"""A CI job gets exactly the DVC-tracked inputs its commit names, from the team's remote."""

from __future__ import annotations

import hashlib
import json

from shipyard.ci.tracked_data import seed, tracked_md5s


def _put(remote, data: bytes, suffix: str = "") -> str:
    md5 = hashlib.md5(data).hexdigest()
    path = remote / "files" / "md5" / md5[:2] / (md5[2:] + suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return md5 + suffix


def test_only_the_commits_tracked_objects_are_copied_each_checked(tmp_path):
    team, job, checkout = tmp_path / "team", tmp_path / "job", tmp_path / "src"
    houses = _put(team, b"sqft,price\n1,2\n")
    other = _put(team, b"another project's bytes\n")
    listing = json.dumps([{"md5": _put(team, b"a\n"), "relpath": "a.csv"}]).encode()
    folder = _put(team, listing, ".dir")
    (checkout / "data" / "raw").mkdir(parents=True)
    (checkout / "data" / "raw" / "houses.csv.dvc").write_text(f"outs:\n- md5: {houses}\n  path: houses.csv\n")
    (checkout / "data" / "more.dvc").write_text(f"outs:\n- md5: {folder}\n  path: more\n")
    (checkout / "data" / "gone.dvc").write_text("outs:\n- md5: " + "0" * 32 + "\n  path: gone.csv\n")
    assert sorted(tracked_md5s(checkout)) == sorted([houses, folder, "0" * 32])
    copied, missing = seed(checkout, team, job)
    assert copied == 3 and missing == ["0" * 32]
    assert (job / "files" / "md5" / houses[:2] / houses[2:]).read_bytes() == b"sqft,price\n1,2\n"
    assert not (job / "files" / "md5" / other[:2]).exists()


def test_an_object_whose_bytes_do_not_match_its_name_is_not_copied(tmp_path):
    team, job, checkout = tmp_path / "team", tmp_path / "job", tmp_path / "src"
    md5 = hashlib.md5(b"real").hexdigest()
    bad = team / "files" / "md5" / md5[:2] / md5[2:]
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"forged")
    checkout.mkdir()
    (checkout / "x.dvc").write_text(f"outs:\n- md5: {md5}\n  path: x\n")
    assert seed(checkout, team, job) == (0, [md5])
