"""banso (伴走): the platform for Japan's public–private critical-technology cooperation."""

__version__ = "0.1.0"
