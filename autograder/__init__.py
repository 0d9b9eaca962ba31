"""The package behind the course: building notebooks, checking answers, grading submissions."""

__version__ = "0.1.0"
