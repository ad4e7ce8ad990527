from pipeline.config import ROOT, load_params, project_relative, source_notes


def test_files_inside_the_project_are_written_relative_to_its_root(tmp_path):
    assert project_relative(ROOT / "data" / "raw" / "a.txt") == "data/raw/a.txt"
    assert project_relative(str(tmp_path / "x.txt")) == str(tmp_path / "x.txt")
    assert project_relative(None) is None


def test_sources_list_real_paragraphs_first_with_what_they_are():
    notes = source_notes()
    assert list(notes)[0] == "seed" and notes.keys() == {i["source"] for i in load_params()["ingest"]["inputs"]}
    assert all(notes.values())
