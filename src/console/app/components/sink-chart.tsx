/** A sink's deliveries and failed attempts per minute over the last hour (uPlot, two series). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { SinkRateSeries } from '../api';

function dataOf(series: SinkRateSeries | undefined): uPlot.AlignedData {
  if (!series) return [[], [], []];
  const start = Date.parse(series.start) / 1000;
  return [series.delivered.map((_, i) => start + i * series.stepSeconds), series.delivered, series.failed];
}

export function SinkChart({ series, width, height }: { series: SinkRateSeries | undefined; width: number; height: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const options: uPlot.Options = {
      width,
      height,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: [{ stroke: '#667', grid: { stroke: '#eef' } }, { stroke: '#667', grid: { stroke: '#eef' }, size: 48, label: 'per minute' }],
      series: [
        {},
        { label: 'delivered', stroke: '#1e7d32', fill: 'rgba(30,125,50,0.12)', width: 1.5, points: { show: false } },
        { label: 'failed attempts', stroke: '#b3261e', fill: 'rgba(179,38,30,0.12)', width: 1.5, points: { show: false } },
      ],
    };
    plot.current = new uPlot(options, dataOf(series), host.current!);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [width, height]);

  useEffect(() => {
    plot.current?.setData(dataOf(series));
  }, [series]);

  return <div class="rate-chart sink-chart" ref={host} />;
}
