export { canJoin, joinAudio, measureDurationMs } from "./join.js";
export { id3v2Length, type Mp3Frame, type Mp3FrameHeader, mp3Frames, readMp3FrameHeader } from "./mp3.js";
export { parseWav, pcmFmt, type WavInfo, wavHeader } from "./wav.js";
