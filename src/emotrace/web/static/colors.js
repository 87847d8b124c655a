// Generated from emotrace.sinks.draw.COLORS by colors_js() (tests/sinks/test_draw.py checks it): the same colour per
// emotion as the annotated video. Do not edit here.
"use strict";
const EMOTION_COLORS = Object.freeze({ angry: "#dc2828", disgust: "#288c28", fear: "#a03ca0", happy: "#ffc800", sad: "#2878c8", surprise: "#ff8c00", neutral: "#aaaaaa", contempt: "#a05a5a" });
