{#- Unit conversions into the canonical units of the staging models: km, minutes, kcal. -#}

{% macro meters_to_km(column) -%}
    ({{ column }} / 1000.0)
{%- endmacro %}

{% macro seconds_to_minutes(column) -%}
    ({{ column }} / 60.0)
{%- endmacro %}

{% macro milliseconds_to_minutes(column) -%}
    ({{ column }} / 60000.0)
{%- endmacro %}
