#!/usr/bin/python3
"""Tests of scripts/tutorial_doc.py's claims, on figures saved from a full run of
scripts/tutorial.sh (tests/samples/tutorial_figures.json, written by its --save-figures).

CI runs the tutorial script with --small, whose figures mean little, so it does not check the
claims there; these tests make sure the checker itself works: the saved figures support every
claim, and a figure that contradicts one claim fails, naming that claim and no other.
"""

import copy
import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHECKER = ROOT / "scripts" / "tutorial_doc.py"
FIXTURE = ROOT / "tests" / "samples" / "tutorial_figures.json"


def run_checker(figures):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(figures, f)
        f.flush()
        return subprocess.run([sys.executable, str(CHECKER), "check", f.name], capture_output=True, text=True)


def failed_claims(stderr):
    return [line.split()[2] for line in stderr.splitlines() if line.startswith("tutorial: claim ")]


class TutorialClaims(unittest.TestCase):
    def setUp(self):
        self.figures = json.loads(FIXTURE.read_text())

    def test_saved_figures_support_every_claim(self):
        r = run_checker(self.figures)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("claims hold", r.stdout)

    def test_a_contradicted_claim_fails_naming_it(self):
        figures = copy.deepcopy(self.figures)
        for run in figures["steps"]["python_blocking"]:  # twice step 1's speed: no longer "as slow"
            run["rate"] *= 2
        r = run_checker(figures)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(failed_claims(r.stderr), ["python_blocking_like_step1"], r.stderr)

    def test_an_ordering_the_prose_states_fails_when_reversed(self):
        figures = copy.deepcopy(self.figures)
        slowest_step3 = min(r["rate"] for r in figures["steps"]["step3"])
        for run in figures["steps"]["step7"]:  # the pool slower than parsing on the loop
            run["rate"] = slowest_step3 / 2
        r = run_checker(figures)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("parse_elsewhere_closest_to_ceiling", failed_claims(r.stderr), r.stderr)

    def test_a_missing_run_fails_the_claims_that_need_it(self):
        figures = copy.deepcopy(self.figures)
        del figures["steps"]["step5_block"]
        r = run_checker(figures)
        self.assertEqual(r.returncode, 1)
        self.assertIn("step5_block_slows_the_crawl", failed_claims(r.stderr), r.stderr)
        self.assertIn("no runs of step5_block", r.stderr)


if __name__ == "__main__":
    unittest.main()
