"""Offline evaluation: MOTChallenge I/O, TrackEval metrics, rosbag I/O and replay."""
