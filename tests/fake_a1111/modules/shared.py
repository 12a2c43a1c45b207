"""FAKE modules.shared: opts, cmd_opts, state, OptionInfo, prompt_styles."""

import argparse


class OptionInfo:
    def __init__(
        self,
        default=None,
        label="",
        component=None,
        component_args=None,
        onchange=None,
        section=None,
        refresh=None,
        **kw,
    ):
        self.default, self.label, self.component = default, label, component
        self.component_args, self.section = component_args, section
        self.comment_after = ""

    def info(self, text):
        self.comment_after += f"({text})"
        return self


class Options:
    def __init__(self):
        self.data = {}
        self.data_labels = {}
        self.outdir_samples = ""
        self.outdir_txt2img_samples = "out/t2i"
        self.outdir_img2img_samples = "out/i2i"
        self.outdir_grids = ""
        self.outdir_txt2img_grids = "out/t2i-grids"
        self.outdir_img2img_grids = "out/i2i-grids"

    def add_option(self, key, info):
        self.data_labels[key] = info
        self.data.setdefault(key, info.default)


class State:
    def __init__(self):
        self.job_count = -1
        self.interrupted = False
        self.jobs = []

    def begin(self, job=""):
        self.jobs.append(job)

    def end(self):
        pass


class PromptStyles:
    styles = {"film": ("{prompt}, film grain", "blurry")}

    def apply_styles_to_prompt(self, prompt, styles):
        for s in styles:
            prompt = self.styles[s][0].replace("{prompt}", prompt)
        return prompt

    def apply_negative_styles_to_prompt(self, prompt, styles):
        for s in styles:
            prompt = ", ".join(x for x in (prompt, self.styles[s][1]) if x)
        return prompt


opts = Options()
cmd_opts = argparse.Namespace(scene_import_allowed_dir=[], scene_import_max_upload_mb=512, api_auth=None)
state = State()
prompt_styles = PromptStyles()
sd_model = None
