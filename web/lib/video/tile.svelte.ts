// State of one video tile on the wall: the player's status as Svelte state, and its labels.
import { VideoPlayer, type TileStatus } from './player.ts';

const LABELS: Record<TileStatus['phase'], { zh: string; en: string }> = {
  connecting: { zh: '连接中', en: 'Connecting' },
  starting: { zh: '启动中', en: 'Starting' },
  live: { zh: '实时', en: 'Live' },
  failed: { zh: '故障', en: 'Failed' },
  reconnecting: { zh: '重连中', en: 'Reconnecting' },
  closed: { zh: '已关闭', en: 'Closed' },
};

export function videoUrl(cameraId: string, loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/video/${encodeURIComponent(cameraId)}`;
}

export class TileState {
  status = $state<TileStatus>({ phase: 'connecting' });
  label = $derived(LABELS[this.status.phase]);

  /** Start playing `cameraId` into `container`; returns the function that stops it. */
  attach(container: HTMLElement, cameraId: string): () => void {
    this.status = { phase: 'connecting' };
    const player = new VideoPlayer({
      url: videoUrl(cameraId),
      container,
      onStatus: (s) => (this.status = s),
    });
    player.start();
    return () => player.destroy();
  }
}
