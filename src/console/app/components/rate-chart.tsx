/** Events per second over the last hour, drawn with uPlot: a bare sparkline, or a chart with axes. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { RateSeries } from '../api';

export interface RateChartProps {
  series: RateSeries | undefined;
  width: number;
  height: number;
  /** axes, grid and a hover legend; a sparkline without */
  axes?: boolean;
}

function dataOf(series: RateSeries | undefined): uPlot.AlignedData {
  if (!series) return [[], []];
  const start = Date.parse(series.start) / 1000;
  return [series.perSecond.map((_, i) => start + i * series.stepSeconds), series.perSecond];
}

export function RateChart({ series, width, height, axes = false }: RateChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const options: uPlot.Options = {
      width,
      height,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: axes ? [{ stroke: '#667', grid: { stroke: '#eef' } }, { stroke: '#667', grid: { stroke: '#eef' }, size: 48, label: 'events/s' }] : [{ show: false }, { show: false }],
      legend: { show: axes },
      cursor: axes ? {} : { show: false },
      series: [{}, { label: 'events/s', stroke: '#1f6fb2', fill: 'rgba(31,111,178,0.15)', width: 1.5, points: { show: false } }],
    };
    plot.current = new uPlot(options, dataOf(series), host.current!);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [width, height, axes]);

  useEffect(() => {
    plot.current?.setData(dataOf(series));
  }, [series]);

  return <div class={axes ? 'rate-chart' : 'sparkline'} ref={host} />;
}
