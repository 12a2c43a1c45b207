// Scene Import: only what gradio cannot do itself.
//  * "Send to txt2img/img2img": switch to that tab, pick "Scene Import" in its Script dropdown,
//    and fill the script's hidden params box (#scene-import-params-<tab>); a chosen seed goes into
//    that tab's seed box (#<tab>_seed) so the seed shown is the seed used.
//  * Keyboard shortcuts on the split table (#scene-import-splits):
//      Ctrl/Cmd+Enter  apply the edited table        Alt+Delete  remove the selected split
//      Ctrl/Cmd+Z      undo (outside text fields)    Alt+A       allocate levels to the selected split
(function () {
    "use strict";

    var SCRIPT_TITLE = "Scene Import";

    function app() {
        if (typeof gradioApp === "function") {
            return gradioApp();
        }
        var el = document.querySelector("gradio-app");
        return el && el.shadowRoot ? el.shadowRoot : document;
    }

    function byId(id) {
        return app().querySelector("#" + id);
    }

    function click(id) {
        var el = byId(id);
        if (el) {
            el.click();
        }
        return !!el;
    }

    function fireInput(target) {
        // like A1111's updateInput(): gradio listens for 'input' to take a value set by script
        var e = new Event("input", {bubbles: true});
        Object.defineProperty(e, "target", {value: target});
        target.dispatchEvent(e);
    }

    function later(test, timeoutMs) {
        // resolve with test()'s first truthy value, polling every 50 ms
        return new Promise(function (resolve, reject) {
            var t0 = Date.now();
            (function poll() {
                var v = test();
                if (v) {
                    resolve(v);
                } else if (Date.now() - t0 > timeoutMs) {
                    reject(new Error("timed out"));
                } else {
                    setTimeout(poll, 50);
                }
            })();
        });
    }

    function switchToTab(tab) {
        var fn = window["switch_to_" + tab];
        if (typeof fn === "function") {
            fn();
            return true;
        }
        var buttons = app().querySelectorAll("#tabs > .tab-nav > button, #tabs > div > button");
        for (var i = 0; i < buttons.length; i++) {
            if (buttons[i].textContent.trim() === tab) {
                buttons[i].click();
                return true;
            }
        }
        return false;
    }

    function scriptDropdown(tab) {
        // A1111 1.10: both tabs' dropdowns have elem_id "script_list", inside #<tab>_script_container
        var box = byId(tab + "_script_container");
        return box ? box.querySelector("#script_list") : null;
    }

    function selectScript(tab) {
        var dd = scriptDropdown(tab);
        if (!dd) {
            return Promise.reject(new Error("no Script dropdown in " + tab));
        }
        var input = dd.querySelector("input");
        if (input && input.value === SCRIPT_TITLE) {
            return Promise.resolve(true);
        }
        if (!input) {
            // a native <select> (older gradio)
            var sel = dd.querySelector("select");
            if (!sel) {
                return Promise.reject(new Error("unknown Script dropdown markup"));
            }
            sel.value = SCRIPT_TITLE;
            sel.dispatchEvent(new Event("change", {bubbles: true}));
            return Promise.resolve(true);
        }
        input.focus();
        input.dispatchEvent(new FocusEvent("focus"));
        return later(function () {
            var items = dd.querySelectorAll("ul.options li");
            for (var i = 0; i < items.length; i++) {
                var v = items[i].getAttribute("data-value") || items[i].getAttribute("aria-label") || items[i].textContent.trim();
                if (v === SCRIPT_TITLE || items[i].textContent.trim().endsWith(SCRIPT_TITLE)) {
                    return items[i];
                }
            }
            return null;
        }, 3000).then(function (li) {
            li.dispatchEvent(new MouseEvent("mousedown", {bubbles: true, cancelable: true}));
            return true;
        });
    }

    function fillParams(tab, json) {
        return later(function () {
            var box = byId("scene-import-params-" + tab);
            return box ? box.querySelector("textarea, input") : null;
        }, 5000).then(function (field) {
            field.value = json;
            fireInput(field);
            return true;
        });
    }

    function fillSeed(tab, json) {
        // the seed the tab chose goes into the target tab's seed box (A1111: #<tab>_seed), and the
        // params say -1 ("the UI's seed"): the seed shown there is the seed used
        var params;
        try {
            params = JSON.parse(json);
        } catch (e) {
            return json;
        }
        if (typeof params.seed !== "number" || params.seed < 0) {
            return json;
        }
        var box = byId(tab + "_seed");
        var field = box ? box.querySelector("input, textarea") : null;
        if (!field) {
            return json;
        }
        field.value = String(params.seed);
        fireInput(field);
        params.seed = -1;
        return JSON.stringify(params);
    }

    function notify(msg) {
        var status = byId("scene-import-status");
        if (status) {
            status.setAttribute("data-send-result", msg);
        }
        if (msg.indexOf("failed") >= 0) {
            console.warn("[Scene Import] " + msg);
        }
    }

    window.sceneImportSendTo = function (tab, json) {
        if (!json) {
            notify("send to " + tab + " failed: no parameters (load a scene first)");
            return [];
        }
        if (!switchToTab(tab)) {
            notify("send to " + tab + " failed: no " + tab + " tab (is this the webui?)");
            return [];
        }
        json = fillSeed(tab, json);
        selectScript(tab)
            .then(function () {
                return fillParams(tab, json);
            })
            .then(function () {
                notify("sent to " + tab);
            })
            .catch(function (err) {
                notify("send to " + tab + " failed: " + err.message);
            });
        return [];
    };

    // ------------------------------------------------------------------ keyboard shortcuts
    function inTextField(el) {
        if (!el) {
            return false;
        }
        var tag = (el.tagName || "").toLowerCase();
        return tag === "textarea" || (tag === "input" && el.type !== "checkbox" && el.type !== "radio") || el.isContentEditable;
    }

    document.addEventListener("keydown", function (e) {
        var target = e.composedPath ? e.composedPath()[0] : e.target;
        var table = byId("scene-import-splits");
        if (!table) {
            return;
        }
        var inTable = table.contains(target);
        var mod = e.ctrlKey || e.metaKey;
        if (inTable && mod && e.key === "Enter") {
            // let the cell commit its edit first, then apply
            setTimeout(function () {
                click("scene-import-apply-table");
            }, 80);
            e.preventDefault();
        } else if (inTable && e.altKey && (e.key === "Delete" || e.key === "Backspace")) {
            click("scene-import-remove");
            e.preventDefault();
        } else if (inTable && e.altKey && (e.key === "a" || e.key === "A")) {
            click("scene-import-allocate");
            e.preventDefault();
        } else if (mod && !e.shiftKey && (e.key === "z" || e.key === "Z") && !inTextField(target)) {
            var root = byId("scene-import-top");
            if (root && root.offsetParent !== null) {
                click("scene-import-undo");
                e.preventDefault();
            }
        }
    }, true);
})();
