"""Staff review web app: transcripts, corrections, dashboard, exports."""
