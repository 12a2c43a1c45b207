"""FAKE modules.processing: processing objects, Processed, process_images, fix_seed."""

import random

from PIL import Image


class StableDiffusionProcessing:
    def __init__(
        self,
        sd_model=None,
        prompt="",
        negative_prompt="",
        width=512,
        height=512,
        seed=-1,
        steps=20,
        cfg_scale=7.0,
        sampler_name="Euler a",
        batch_size=1,
        n_iter=1,
        styles=None,
        outpath_samples=None,
        outpath_grids=None,
        **kw,
    ):
        self.prompt, self.negative_prompt = prompt, negative_prompt
        self.width, self.height, self.seed = width, height, seed
        self.steps, self.cfg_scale, self.sampler_name = steps, cfg_scale, sampler_name
        self.batch_size, self.n_iter = batch_size, n_iter
        self.styles = list(styles or [])
        self.extra_generation_params = {}
        self.comments = {}
        self.script_args = None
        self.scripts = None
        self.subseed = -1
        self.all_prompts = self.all_negative_prompts = self.all_seeds = None
        self.closed = False
        for k, v in kw.items():
            setattr(self, k, v)

    def comment(self, text):
        self.comments[text] = 1

    def close(self):
        self.closed = True


class StableDiffusionProcessingTxt2Img(StableDiffusionProcessing):
    pass


class StableDiffusionProcessingImg2Img(StableDiffusionProcessing):
    def __init__(self, init_images=None, denoising_strength=0.75, resize_mode=0, mask=None, **kw):
        super().__init__(**kw)
        self.init_images = init_images
        self.denoising_strength = denoising_strength
        self.resize_mode = resize_mode
        self.image_mask = mask


class Processed:
    def __init__(
        self,
        p,
        images_list,
        seed=-1,
        info="",
        subseed=None,
        all_prompts=None,
        all_negative_prompts=None,
        all_seeds=None,
        all_subseeds=None,
        index_of_first_image=0,
        infotexts=None,
        comments="",
    ):
        self.images = images_list
        self.prompt, self.seed, self.info = p.prompt, seed, info
        self.width, self.height = p.width, p.height
        self.comments = "".join(f"{c}\n" for c in p.comments)
        self.all_prompts = all_prompts or [p.prompt]
        self.all_negative_prompts = all_negative_prompts or [p.negative_prompt]
        self.all_seeds = all_seeds or [seed]
        self.all_subseeds = all_subseeds or [-1]
        self.infotexts = infotexts or [info]
        self.extra_generation_params = p.extra_generation_params


def fix_seed(p):
    if p.seed in (-1, None, ""):
        p.seed = random.randrange(2**32)


def infotext(p):
    parts = [p.prompt, f"Seed: {p.seed}, Size: {p.width}x{p.height}"]
    parts += [f"{k}: {v}" for k, v in p.extra_generation_params.items()]
    return "\n".join(parts)


def process_images(p):
    """Calls every always-on script's process(p, *its slice) like A1111, then 'generates'."""
    fix_seed(p)
    for script in p.scripts.alwayson_scripts:
        script.process(p, *p.script_args[script.args_from : script.args_to])
    img = Image.new("RGB", (p.width, p.height), (10, 20, 30))
    text = infotext(p)
    p.all_prompts, p.all_negative_prompts, p.all_seeds = [p.prompt], [p.negative_prompt], [p.seed]
    return Processed(p, [img], p.seed, text, infotexts=[text])
