"""Vision and text models for posts the rules cannot read (seed002 §5.2-5.5): one
OpenAI-compatible client, a strict extraction schema with evidence, and the gates that turn
anything unproven into needs-manual."""
