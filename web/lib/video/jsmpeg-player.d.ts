// @cycjimmy/jsmpeg-player (MIT) ships no types; player.ts declares the part it uses.
declare module '@cycjimmy/jsmpeg-player' {
  const JSMpeg: unknown;
  export default JSMpeg;
}
