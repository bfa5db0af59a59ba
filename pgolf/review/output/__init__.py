"""Output: the Markdown reports (`markdown`), the HTML pages (`page` + templates/), the frontier figure
(`figure`)."""
