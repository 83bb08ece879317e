"""The demo portal: a page that logs in a demo student and embeds the web chat widget."""
