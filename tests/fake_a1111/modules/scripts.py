"""FAKE modules.scripts: Script, AlwaysVisible, a ScriptRunner that slices args like A1111 1.10."""

AlwaysVisible = object()


class Script:
    filename = None
    args_from = None
    args_to = None
    alwayson = False
    is_txt2img = False
    is_img2img = False
    infotext_fields = None
    paste_field_names = None

    def title(self):
        raise NotImplementedError

    def show(self, is_img2img):
        return True

    def ui(self, is_img2img):
        return []

    def run(self, p, *args):
        return None

    def process(self, p, *args):
        pass


class ScriptRunner:
    """Lays out args like A1111: [selector] + always-on slices + dropdown slices."""

    def __init__(self, alwayson, selectable, defaults):
        self.alwayson_scripts = list(alwayson)
        self.selectable_scripts = list(selectable)
        self.scripts = self.alwayson_scripts + self.selectable_scripts
        self.inputs = [_Comp(None)]
        for s in self.scripts:
            vals = defaults[s]
            s.args_from = len(self.inputs)
            self.inputs += [_Comp(v) for v in vals]
            s.args_to = len(self.inputs)
        self.titles = [s.title() for s in self.selectable_scripts]

    def default_args(self, selected=None):
        args = [c.value for c in self.inputs]
        args[0] = 0 if selected is None else self.selectable_scripts.index(selected) + 1
        return args

    def run(self, p, *args):
        idx = args[0]
        if not idx:
            return None
        script = self.selectable_scripts[idx - 1]
        return script.run(p, *args[script.args_from : script.args_to])


class _Comp:
    def __init__(self, value):
        self.value = value


scripts_txt2img = None
scripts_img2img = None
