"""krc: the digital backbone of Mali's four Key Results for Children."""

__version__ = "0.1.0"
