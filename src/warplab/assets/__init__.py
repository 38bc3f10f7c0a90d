"""Building scenes: the project's own robots, and (later) MJCF, URDF, USD and Menagerie import."""
