/** Events per minute over the last hour (the console's one unit of rate): a bare sparkline, or a chart with axes. */
import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import type { RateSeries } from '../api';
import { TimeChart } from './time-chart';

const SERIES: uPlot.Series[] = [
  { label: 'events/min', stroke: '#1f6fb2', fill: 'rgba(31,111,178,0.15)', width: 1.5, points: { show: false } },
];

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
  return [series.perSecond.map((_, i) => start + i * series.stepSeconds), series.perSecond.map((v) => v * 60)];
}

export function RateChart({ series, width, height, axes = false }: RateChartProps) {
  const data = useMemo(() => dataOf(series), [series]);
  return (
    <TimeChart
      data={data}
      series={SERIES}
      width={width}
      height={height}
      {...(axes ? { yLabel: 'events/min' } : {})}
      className={axes ? 'rate-chart' : 'sparkline'}
    />
  );
}
