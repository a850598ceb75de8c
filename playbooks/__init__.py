"""Automated evidence playbooks: the YAML format, the step kinds, the runner, the loader and the CLI."""
