"""The think tank (issue 6): pages over the analysis and ``banso analyze``, which files reports into councils."""
