"""Write small PNGs carrying the metadata of other image tools, for the
gallery importer tests. Pillow writes the text chunks exactly as those tools
do (they all use Pillow). Run: tools/.venv/bin/python gallery/testdata/make_samples.py
"""
import json
import os

from PIL import Image
from PIL.PngImagePlugin import PngInfo

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "import")


def save(name, chunks, color):
    img = Image.new("RGB", (24, 16), color)
    info = PngInfo()
    for kind, key, value in chunks:
        if kind == "text":
            info.add_text(key, value)  # tEXt if Latin-1, else iTXt (A1111's way)
        elif kind == "ztxt":
            info.add_text(key, value, zip=True)  # zTXt
        elif kind == "itxt_z":
            info.add_itxt(key, value, zip=True)  # compressed iTXt
    img.save(os.path.join(HERE, name), pnginfo=info)


# A1111 >= 1.9, the example of anchors.md 3.1.
save("a1111.png", [("text", "parameters",
    "masterpiece, a cozy cabin in the woods, (snow:1.2)\n"
    "Negative prompt: lowres, blurry\n"
    "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, "
    "Size: 1024x1024, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, VAE hash: 235745af8d, "
    "VAE: sdxl_vae.safetensors, RNG: CPU, Refiner: sd_xl_refiner_1.0 [7440042bbd], "
    "Refiner switch at: 0.8, Version: v1.10.1")], (200, 40, 40))

# A1111 < 1.9: scheduler folded into the sampler name, multi-line prompt,
# a quoted value, non-Latin-1 text (so Pillow writes iTXt).
save("a1111_old_utf8.png", [("text", "parameters",
    "café ☕ au lait,\nlatte art\n"
    "Negative prompt: text,\nwatermark\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 5.5, Seed: 42, Size: 832x1216, "
    "Model hash: e6bb9ea85b, Model: juggernautXL_v9, "
    'Lora hashes: "detail: 1a2b3c4d5e, style: 9f8e7d6c5b", Version: v1.6.0')], (40, 200, 40))

# The same text compressed: zTXt, as Pillow's add_text(zip=True) writes it.
save("a1111_ztxt.png", [("ztxt", "parameters",
    "a lighthouse at dusk\n"
    "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 6, Seed: 7, Size: 512x768, Model: dreamshaper_8")],
    (40, 40, 200))

# ComfyUI default workflow, API format in "prompt", UI graph in "workflow".
comfy_prompt = {
    "3": {"class_type": "KSampler", "inputs": {
        "seed": 156680208700286, "steps": 20, "cfg": 8.0, "sampler_name": "euler_ancestral",
        "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0],
        "negative": ["7", 0], "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {
        "text": "beautiful scenery nature glass bottle landscape, purple galaxy bottle,", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}
comfy_workflow = {"last_node_id": 9, "last_link_id": 9, "nodes": [], "links": [], "version": 0.4}
save("comfyui.png", [("text", "prompt", json.dumps(comfy_prompt)),
                     ("text", "workflow", json.dumps(comfy_workflow))], (120, 0, 160))

# InvokeAI: CoreMetadataInvocation keys in "invokeai_metadata".
invoke_meta = {
    "generation_mode": "sdxl_txt2img", "positive_prompt": "a portrait of an astronaut, studio lighting",
    "negative_prompt": "deformed", "width": 896, "height": 1152, "seed": 3141592653,
    "rand_device": "cpu", "cfg_scale": 6.5, "cfg_rescale_multiplier": 0, "steps": 28,
    "scheduler": "dpmpp_2m_k", "seamless_x": False, "seamless_y": False, "clip_skip": 0,
    "model": {"key": "0b1c", "hash": "blake3:7a8b", "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
    "positive_style_prompt": "", "negative_style_prompt": "", "app_version": "5.6.0",
}
save("invokeai.png", [("text", "invokeai_metadata", json.dumps(invoke_meta)),
                      ("text", "invokeai_graph", json.dumps({"id": "g", "nodes": {}, "edges": []}))],
     (0, 120, 120))

# Fooocus, "fooocus" scheme: sorted JSON in "parameters".
fooocus_meta = {
    "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion",
    "base_model_hash": "aeb7e9e689", "full_negative_prompt": ["unrealistic", "saturated"],
    "full_prompt": ["a bowl of ramen, cinematic", "highly detailed"], "guidance_scale": 4.0,
    "loras": [], "negative_prompt": "", "performance": "Speed", "prompt": "a bowl of ramen",
    "refiner_model": "None", "resolution": "(1152, 896)", "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras", "seed": "987654321", "sharpness": 2.0, "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance']", "vae": "Default (model)", "version": "Fooocus v2.5.5",
}
save("fooocus.png", [("text", "parameters", json.dumps(dict(sorted(fooocus_meta.items())))),
                     ("text", "fooocus_scheme", "fooocus")], (160, 160, 0))

# Fooocus, "a1111" scheme: A1111 text with Fooocus' own keys.
save("fooocus_a1111.png", [("text", "parameters",
    "a bowl of ramen, cinematic, highly detailed\nNegative prompt: unrealistic\n"
    "Steps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 987654321, Size: 1152x896, CFG scale: 4.0, "
    "Sharpness: 2.0, ADM Guidance: \"(1.5, 0.8, 0.3)\", Model: juggernautXL_v8Rundiffusion, "
    "Model hash: aeb7e9e689, Performance: Speed, Scheduler: karras, VAE: Default (model), "
    "Raw prompt: a bowl of ramen, Raw negative prompt: unrealistic, Version: Fooocus v2.5.5"),
    ("text", "fooocus_scheme", "a1111")], (90, 90, 90))

# No generation metadata at all (DiffusionBee, Amuse, a photo).
save("unknown.png", [("text", "Software", "some editor")], (255, 255, 255))

# Compressed iTXt holding UTF-8 A1111 text.
save("a1111_itxt_zip.png", [("itxt_z", "parameters",
    "日本の庭園, 桜\nSteps: 12, Sampler: UniPC, CFG scale: 3, Seed: 99, Size: 640x640, Model: animagine")],
    (250, 180, 200))
