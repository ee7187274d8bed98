/** A sink's deliveries and failed attempts per minute over the last hour (two series). */
import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import type { SinkRateSeries } from '../api';
import { TimeChart } from './time-chart';

const SERIES: uPlot.Series[] = [
  { label: 'delivered', stroke: '#1e7d32', fill: 'rgba(30,125,50,0.12)', width: 1.5, points: { show: false } },
  { label: 'failed attempts', stroke: '#b3261e', fill: 'rgba(179,38,30,0.12)', width: 1.5, points: { show: false } },
];

function dataOf(series: SinkRateSeries | undefined): uPlot.AlignedData {
  if (!series) return [[], [], []];
  const start = Date.parse(series.start) / 1000;
  return [series.delivered.map((_, i) => start + i * series.stepSeconds), series.delivered, series.failed];
}

export function SinkChart({
  series,
  width,
  height,
}: {
  series: SinkRateSeries | undefined;
  width: number;
  height: number;
}) {
  const data = useMemo(() => dataOf(series), [series]);
  return (
    <TimeChart
      data={data}
      series={SERIES}
      width={width}
      height={height}
      yLabel="per minute"
      className="rate-chart sink-chart"
    />
  );
}
