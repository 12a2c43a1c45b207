"""Scene Import host glue: gradio UI builders, A1111/ControlNet/Regional Prompter adapters, API routes."""
