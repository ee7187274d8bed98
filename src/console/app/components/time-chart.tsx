/**
 * A uPlot time-series chart, shared by the console's charts: made again when its size or axes
 * change, fed new data in place otherwise. Without `yLabel` it is a bare sparkline (no axes,
 * legend or cursor).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { localTime } from '../format';

// the console's one time format (24-hour, local) on the axis and in the legend
const clock = new Intl.DateTimeFormat('sv-SE', { hour: '2-digit', minute: '2-digit', hour12: false });
const axisTimes = (_u: uPlot, splits: number[]) => splits.map((s) => clock.format(s * 1000));
const legendTime = (_u: uPlot, v: number | null) => (v === null ? '—' : localTime(new Date(v * 1000).toISOString()));

export interface TimeChartProps {
  /** x (epoch seconds), then one array per series */
  data: uPlot.AlignedData;
  /** the plotted series (the x series is implied) */
  series: uPlot.Series[];
  width: number;
  height: number;
  /** the y axis' label: axes, grid, legend and cursor with it, a sparkline without */
  yLabel?: string;
  className: string;
}

export function TimeChart({ data, series, width, height, yLabel, className }: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const axes = yLabel !== undefined;
    const options: uPlot.Options = {
      width,
      height,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: axes
        ? [
            { stroke: '#889', grid: { stroke: 'rgba(128,128,160,0.18)' }, values: axisTimes },
            { stroke: '#889', grid: { stroke: 'rgba(128,128,160,0.18)' }, size: 48, label: yLabel },
          ]
        : [{ show: false }, { show: false }],
      legend: { show: axes },
      cursor: axes ? {} : { show: false },
      series: [{ value: legendTime }, ...series],
    };
    plot.current = new uPlot(options, data, host.current!);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // the series' look is fixed per chart; data goes in below without a rebuild
  }, [width, height, yLabel]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class={className} ref={host} />;
}
