"""Files the regression stage uploads to the undercloud (run_scripts.py: the script-suite runner)."""
