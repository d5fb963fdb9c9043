"""The pipeline domain: a run's record of its stages and the built-in lab as the site of one run."""
