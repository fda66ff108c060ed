"""One-off studies: each module runs with `python -m experiments.<name>` and writes its rows under eval/results/."""
